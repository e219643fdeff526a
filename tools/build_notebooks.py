"""Build the lesson notebooks from their sources, and run them so stored outputs are true.

Each lesson is written as a plain Python file in jupytext's "percent" format under
``tools/lessons/`` (``# %%`` starts a code cell, ``# %% [markdown]`` a text cell, and
``# %% tags=["raises-exception"]`` tags one).  This script turns each into
``notebooks/NN-slug.ipynb``, runs it top to bottom in a fresh kernel, as a learner's
Run All would, and saves it with its outputs::

    python tools/build_notebooks.py            # every lesson
    python tools/build_notebooks.py 03 04      # only lessons 03 and 04

Then run ``pytest --nbval notebooks`` to confirm the stored outputs are reproducible.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "tools" / "lessons"
NOTEBOOKS = ROOT / "notebooks"

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def build(source: Path, execute: bool = True, timeout: int = 120) -> Path:
    nb = jupytext.read(source, fmt="py:percent")
    nb.metadata = {
        "kernelspec": KERNELSPEC,
        "language_info": {"name": "python"},
    }
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index:03d}"  # stable ids: a rebuild of an unchanged lesson is no diff
        # Keep only what a learner's notebook needs: tags.
        tags = cell.metadata.get("tags")
        cell.metadata = {"tags": tags} if tags else {}
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    if execute:
        NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(NOTEBOOKS)}},
            record_timing=False,
        ).execute()
    nb.metadata.pop("widgets", None)  # no saved widget state in committed notebooks
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata["language_info"] = {"name": "python"}
    target = NOTEBOOKS / f"{source.stem}.ipynb"
    nbformat.validate(nb)
    nbformat.write(nb, target)
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lesson numbers or names (default: all)")
    parser.add_argument("--no-execute", action="store_true", help="write without running")
    args = parser.parse_args(argv)
    sources = sorted(SOURCES.glob("[0-9][0-9]-*.py"))
    if args.lessons:
        sources = [s for s in sources if any(s.stem.startswith(w) for w in args.lessons)]
    if not sources:
        print(f"no lesson sources match {args.lessons} in {SOURCES}", file=sys.stderr)
        return 2
    for source in sources:
        print(f"building {source.name} -> notebooks/{source.stem}.ipynb", flush=True)
        build(source, execute=not args.no_execute)
    return 0


if __name__ == "__main__":
    sys.exit(main())
