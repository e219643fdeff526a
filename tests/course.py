"""Shared knowledge about the course's files, for the tests.

- ``NOTEBOOKS``: every lesson notebook; ``exercise_cells(nb)``: the cells tagged
  ``exercise`` with the names they define.
- ``solution_source(name)`` / ``buggy_variants(name)`` / ``correct_variants(name)``: the
  reference solution, the buggy variants kept under ``tests/buggy`` (each must fail with
  its ``EXPECT`` text) and other correct ways to write it under ``tests/correct`` (each
  must pass every check, however slow the machine).
- ``load_definition(source, name)``: run some source in a fresh namespace and return the
  object ``name`` holds afterwards.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
SOLUTIONS = Path(__file__).resolve().parent / "solutions"
BUGGY = Path(__file__).resolve().parent / "buggy"
CORRECT = Path(__file__).resolve().parent / "correct"


def read(path: Path):
    return nbformat.read(path, as_version=4)


def defined_names(source: str) -> list[str]:
    """Top-level functions and classes defined by ``source``."""
    tree = ast.parse(source)
    return [
        n.name
        for n in tree.body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ]


def exercise_cells(nb) -> list[tuple[int, object, list[str]]]:
    """(index, cell, names defined) for every code cell tagged ``exercise``."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "exercise" in cell.metadata.get("tags", []):
            found.append((index, cell, defined_names(cell.source)))
    return found


def stubs() -> dict[str, tuple[str, str]]:
    """exercise name -> (notebook name, the stub source its exercise cell holds)."""
    found = {}
    for path in NOTEBOOKS:
        for _, cell, names in exercise_cells(read(path)):
            for name in names:
                found[name] = (path.name, cell.source)
    return found


def solution_source(name: str) -> str:
    return (SOLUTIONS / f"{name}.py").read_text()


def buggy_variants(name: str) -> list[Path]:
    return sorted((BUGGY / name).glob("*.py"))


def correct_variants(name: str) -> list[Path]:
    return sorted((CORRECT / name).glob("*.py"))


def load_definition(source: str, name: str, filename: str = "<exercise>"):
    namespace: dict = {"__name__": "__exercise__"}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name], namespace
