"""Tampering caught, never rewarded: the cheating notebooks of ``tests/cheating/`` graded.

Each cheat aims at an exercise whose stub (or wrong answer) must still score 0, and the
submission must be marked TAMPERED with a note naming what was touched.  They are all
graded in one run (``--jobs 2``), with an honest notebook alongside to show the others
are unaffected.  The static look is also run over the course's own notebooks and
reference solutions: none of them may look like tampering.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
CHEATS = sorted((ROOT / "tests" / "cheating").glob("*.py"))
CELL_START = re.compile(r"^# %%(?: tags=(\[.*\]))?\s*$")


def notebook_from_source(source: str) -> tuple[nbformat.NotebookNode, dict]:
    """A notebook from a percent-format file; its ``# EXPECT`` lines as a dict."""
    expect: dict[str, list[str]] = {}
    cells, current, tags = [], None, []
    for line in source.splitlines():
        header = CELL_START.match(line)
        if header:
            if current is not None:
                cells.append(
                    new_code_cell(
                        "\n".join(current).strip(), metadata={"tags": tags} if tags else {}
                    )
                )
            current, tags = [], json.loads(header[1]) if header[1] else []
        elif current is None:
            found = re.match(r"# EXPECT (\w+): (.*)$", line)
            if found:
                expect.setdefault(found[1], []).append(found[2])
        else:
            current.append(line)
    if current is not None:
        cells.append(
            new_code_cell("\n".join(current).strip(), metadata={"tags": tags} if tags else {})
        )
    nb = new_notebook(cells=[new_markdown_cell("# A submission"), *cells])
    return nb, expect


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    expectations = {}
    for path in CHEATS:
        nb, expect = notebook_from_source(path.read_text())
        nbformat.write(nb, str(folder / f"{path.stem}.ipynb"))
        expectations[f"{path.stem}.ipynb"] = expect
    honest = new_notebook(
        cells=[
            new_code_cell("import socket", metadata={}),
            new_code_cell(
                "def open_doorbell():\n    return socket.create_server(('127.0.0.1', 0))",
                metadata={"tags": ["exercise"]},
            ),
            new_code_cell('check("open_doorbell", open_doorbell)', metadata={"tags": ["check"]}),
        ]
    )
    nbformat.write(honest, str(folder / "zz_honest.ipynb"))
    result = subprocess.run(
        [sys.executable, "-m", "tcplessons", "grade", str(folder), "--json", "-q", "--jobs", "2",
         "--timeout", "60", "--cell-timeout", "10"],
        capture_output=True, text=True, timeout=600, cwd=str(ROOT),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    subs = {Path(s["notebook"]).name: s for s in json.loads(result.stdout)["submissions"]}
    return subs, expectations


@pytest.mark.parametrize("cheat", [p.stem for p in CHEATS])
def test_a_cheat_gains_nothing_and_is_marked(graded, cheat):
    subs, expectations = graded
    sub, expect = subs[f"{cheat}.ipynb"], expectations[f"{cheat}.ipynb"]
    assert sub["tampered"] is True, sub["notes"]
    for exercise_id in expect["exercise"]:
        row = next(e for e in sub["exercises"] if e["id"] == exercise_id)
        honest = int(expect.get("score", ["0"])[0].split()[0])  # what the code earns unpatched
        assert row["score"] == honest and not row["passed"], row
    for text in expect.get("note", []):
        assert any(text in note for note in sub["notes"]), (text, sub["notes"])
    assert all(note.startswith("TAMPERED: ") for note in sub["notes"] if "TAMPERED" in note)


def test_an_honest_notebook_beside_them_is_unaffected(graded):
    subs, _ = graded
    honest = subs["zz_honest.ipynb"]
    doorbell = next(e for e in honest["exercises"] if e["id"] == "open_doorbell")
    assert doorbell["passed"] and honest["tampered"] is False, honest


def test_the_static_look_finds_nothing_in_the_course_itself():
    """No false alarm on the lessons as shipped, nor on the reference solutions."""
    from tcplessons.grading.integrity import edited_check_cells, findings, imported_names
    from tcplessons.grading.notebook import read_notebook

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook, _ = read_notebook(str(path))
        trees = [c.tree for c in notebook.cells if c.tree is not None]
        imported = imported_names(trees)
        assert edited_check_cells(notebook) == [], path.name
        for cell in notebook.cells:
            assert cell.tree is not None, (path.name, cell.label)
            assert findings(cell.tree, imported) == [], (path.name, cell.label)
    for path in sorted((ROOT / "tests" / "solutions").glob("*.py")):
        assert findings(ast.parse(path.read_text())) == [], path.name


def test_program_for_keeps_only_the_definitions_an_exercise_needs():
    from tcplessons.grading.notebook import Cell, Notebook, program_for, read_notebook  # noqa: F401

    sources = [
        "import socket\nimport json\nprint('hello')",
        "SIZE = 4096\nserver = start_echo_server()",
        "def helper(sock):\n    return sock.recv(SIZE)",
        "def recv_all(sock):\n    return helper(sock)",
        "json.dump = None",
        "def recv_all(sock):\n    return b''.join(iter(lambda: helper(sock), b''))",
    ]
    cells = [Cell(i, s, [], ast.parse(s)) for i, s in enumerate(sources)]
    program, used = program_for(Notebook(cells), ["recv_all"], {c.index for c in cells})
    assert program.splitlines() == [
        "SIZE = 4096",
        "def helper(sock):",
        "    return sock.recv(SIZE)",
        "def recv_all(sock):",
        "    return b''.join(iter(lambda: helper(sock), b''))",
    ]
    assert used == [1, 2, 5]


@pytest.mark.parametrize(
    "source",
    [
        "rates[handler.__name__] = 1",  # a dict keyed by a function's name
        "import socketserver\nsocketserver.TCPServer.allow_reuse_address = True",  # not watched
        "self.members[name] = conn",
        "setattr(self, 'name', name)",
    ],
)
def test_ordinary_code_is_not_tampering(source):
    from tcplessons.grading.integrity import findings

    assert findings(ast.parse(source)) == []


def test_exact_types_are_not_fooled_by_a_lying_value():
    from tcplessons.exercises.tools import exact_type_problem

    class Anything(bytes):
        def __eq__(self, other):
            return True

        __hash__ = bytes.__hash__

    assert Anything(b"") == b"hello"
    assert "subclass" in exact_type_problem(Anything(b""), bytes)
    assert exact_type_problem(b"hello", bytes) is None
    assert exact_type_problem(bytearray(b"hello"), bytes) is not None
