"""Finding the submissions: notebooks named on the command line, a shard of them, and
each one's temporary copy of its folder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

__all__ = ["GradingError", "copy_submission", "find_notebooks", "parse_shard", "shard"]

#: Folders and files of a submission's folder that its temporary copy leaves out.
COPY_IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", ".git", "*.ipynb")
#: Biggest folder (bytes) copied next to a notebook; a larger one gets only the notebook.
COPY_LIMIT = 50 * 1024 * 1024


class GradingError(Exception):
    """Bad arguments (a missing path, no notebooks, broken private checks): exit status 2."""


def find_notebooks(paths: Sequence[str]) -> list[Path]:
    """The notebooks named by ``paths``: files as given, folders' ``*.ipynb`` sorted.

    Folders are searched with their subfolders (a folder per learner), skipping
    ``.ipynb_checkpoints`` and hidden folders.  A notebook named twice is graded once.
    Raises :class:`GradingError` for a path that does not exist or when none is found.
    """
    found: list[Path] = []
    seen = set()
    for text in paths:
        path = Path(text)
        if path.is_dir():
            candidates = sorted(
                p
                for p in path.rglob("*.ipynb")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts[:-1])
            )
        elif path.is_file():
            candidates = [path]
        else:
            raise GradingError(f"no such file or folder: {text}")
        for candidate in candidates:
            key = os.path.realpath(candidate)
            if key not in seen:
                seen.add(key)
                found.append(candidate)
    if not found:
        raise GradingError(
            f"no notebooks (*.ipynb) found in: {' '.join(paths)} (nor in its subfolders)"
        )
    return found


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/5"`` -> ``(2, 5)``; :class:`GradingError` unless 1 <= K <= N."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise GradingError(f"--shard needs K/N (such as 2/5), got {text!r}") from None
    if not 1 <= k <= n:
        raise GradingError(f"--shard K/N needs 1 <= K <= N, got {text!r}")
    return k, n


def shard(notebooks: list[Path], k: int, n: int) -> list[Path]:
    """The K-th of N contiguous slices of ``notebooks`` (found in a fixed, sorted order),
    so that joining slices 1..N in order gives back every notebook once."""
    start, end = (k - 1) * len(notebooks) // n, k * len(notebooks) // n
    return notebooks[start:end]


def _folder_size(folder: Path, limit: int) -> int:
    total = 0
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in (".ipynb_checkpoints", "__pycache__", ".git")]
        for name in files:
            if not name.endswith(".ipynb"):
                try:
                    total += os.path.getsize(os.path.join(root, name))
                except OSError:
                    pass
            if total > limit:
                return total
    return total


def copy_submission(notebook: Path, target: Path) -> str:
    """Copy the notebook's folder (without other notebooks) and the notebook to ``target``.

    Returns a note when the folder could not be copied (the notebook then runs alone).
    """
    source = notebook.resolve()
    note = ""
    try:
        if _folder_size(source.parent, COPY_LIMIT) > COPY_LIMIT:
            raise OSError("the notebook's folder is too big to copy")
        shutil.copytree(source.parent, target, ignore=COPY_IGNORE, symlinks=True)
    except (OSError, shutil.Error) as exc:
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        first = exc.args[0] if exc.args and isinstance(exc.args[0], str) else ""
        note = f"{first or 'some files could not be copied'}; the notebook ran alone in an empty folder"
    try:
        shutil.copy2(source, target / source.name)
    except OSError:
        pass  # an unreadable notebook: the worker says so
    return note
