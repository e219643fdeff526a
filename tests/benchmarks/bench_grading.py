"""How long grading a class takes: 20 submissions with ``--jobs 2`` against one alone,
and the cost of the sandbox: the same 20 with ``--sandbox=require`` against ``off``.

Not a test (pytest does not collect this folder).  Run it from the repository root::

    python tests/benchmarks/bench_grading.py            # 20 submissions, --jobs 2
    python tests/benchmarks/bench_grading.py 40 4       # 40 submissions, --jobs 4

Each submission is a small generated notebook (a lesson-like first cell, a definition and
the notebook's own check cell); a third are wrong, a few do not attempt the exercise.
The ratio to beat is well under N (the submissions): with 2 jobs the ideal is N / 2.
The sandbox's goal: under 10% more time.  The runs alternate (off, sandbox, off,
sandbox) and each figure is the faster of its two, so a busy moment on a shared machine
weighs less.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CHECKS = """
from tcplessons.exercises import CheckFailed, Exercise, register

twice = Exercise("bench_twice", lesson="99-bench")

@twice.check("doubles a word")
def _(fn):
    if fn("ab") != "abab":
        raise CheckFailed("wrong", hint="repeat the text")

@twice.check("doubles bytes")
def _(fn):
    if fn(b"\\xff") != b"\\xff\\xff":
        raise CheckFailed("wrong for bytes")

register(twice)
"""


def make_submission(path: Path, number: int) -> None:
    body = "    return text * 2" if number % 3 else "    return text"
    cells = [
        new_markdown_cell("# Lesson 99"),
        new_code_cell("import tcplessons\nprint(tcplessons.versions())"),
        new_code_cell(f"def bench_twice(text):\n{body}" if number % 7 != 6 else "pass"),
        new_code_cell('check("bench_twice", bench_twice)' if number % 7 != 6 else "pass"),
        new_code_cell("print(sum(range(1000)))"),
    ]
    nbformat.write(new_notebook(cells=cells), str(path))


def grade(paths, jobs: int, checks: Path, sandbox: str = "off") -> float:
    started = time.monotonic()
    command = [sys.executable, "-m", "tcplessons", "grade", *map(str, paths), "--jobs", str(jobs)]
    command += ["--json", "-q", "--checks", str(checks), "--sandbox", sandbox]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"grading failed: {result.stderr.strip()}")
    return elapsed


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        checks = Path(tmp) / "checks"
        checks.mkdir()
        (checks / "bench.py").write_text(CHECKS)
        for number in range(count):
            make_submission(folder / f"learner{number:02d}.ipynb", number)
        one = grade([folder / "learner01.ipynb"], 1, checks)
        plain, boxed = [], []
        for _ in range(2):
            plain.append(grade([folder], jobs, checks, "off"))
            boxed.append(grade([folder], jobs, checks, "require"))
    many, sandboxed = min(plain), min(boxed)
    print(f"one submission:                       {one:6.2f} s")
    print(
        f"{count} submissions, --jobs {jobs}:            {many:6.2f} s ({many / count:.2f} s each)"
    )
    print(
        f"ratio: {many / one:.1f}x for {count}x the work (ideal with {jobs} jobs: {count / jobs:.0f}x)"
    )
    print(
        f"{count} submissions, --jobs {jobs}, sandboxed: {sandboxed:6.2f} s ({sandboxed / count:.2f} s each)"
    )
    runs = ", ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(plain, boxed))
    print(
        f"sandbox cost: {sandboxed / many:.3f}x ({(sandboxed / many - 1) * 100:+.1f}%; runs off/on: {runs} s)"
    )


if __name__ == "__main__":
    main()
