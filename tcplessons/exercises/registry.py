"""Every exercise the course knows, by id (the name the learner defines)."""

from __future__ import annotations

import importlib
import pkgutil
import runpy
from pathlib import Path

from .model import Exercise

__all__ = ["all_exercises", "get_exercise", "load_checks_dir", "register"]

_exercises: dict[str, Exercise] = {}
_loaded = False

#: Modules of this package that hold machinery, not exercises.
_NOT_EXERCISES = {"model", "registry", "tools"}


def register(exercise: Exercise) -> Exercise:
    """Make ``exercise`` known to :func:`tcplessons.check` and to the grader."""
    if exercise.id in _exercises and _exercises[exercise.id] is not exercise:
        raise ValueError(f"an exercise named {exercise.id!r} is already registered")
    _exercises[exercise.id] = exercise
    return exercise


def _load_builtin() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    package = importlib.import_module(__package__)
    for info in pkgutil.iter_modules(package.__path__):
        if info.name not in _NOT_EXERCISES and not info.name.startswith("_"):
            importlib.import_module(f"{__package__}.{info.name}")


def get_exercise(exercise_id: str) -> Exercise:
    """The exercise named ``exercise_id``; ``KeyError`` with the known names otherwise."""
    _load_builtin()
    try:
        return _exercises[exercise_id]
    except KeyError:
        known = ", ".join(sorted(_exercises))
        raise KeyError(f"no exercise named {exercise_id!r}; known exercises: {known}") from None


def all_exercises() -> list[Exercise]:
    """Every registered exercise, sorted by lesson then id."""
    _load_builtin()
    return sorted(_exercises.values(), key=lambda e: (e.lesson, e.id))


def load_checks_dir(folder) -> list[str]:
    """Run every ``*.py`` in ``folder`` (an instructor's private checks); return their names.

    Such a file adds checks to a course exercise
    (``get_exercise("recv_all").check("...")(fn)``) or registers a new ``Exercise``.
    """
    _load_builtin()
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"--checks needs a folder of .py files, got {str(folder)!r}")
    files = sorted(folder.glob("*.py"))
    for path in files:
        runpy.run_path(str(path), run_name=f"tcplessons_private_checks_{path.stem}")
    return [p.name for p in files]
