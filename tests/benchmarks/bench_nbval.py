"""Benchmark: what validating the lessons costs, against the floor of the same number of
one-cell notebooks (each nbval notebook pays a kernel start; the lessons should add little
on top: no sleeping, no waiting on timeouts that never fire).

    python tests/benchmarks/bench_nbval.py [--repeat 2]

Prints both wall-clock times and their ratio (target: at most 2).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]


def run_pytest(args, cwd) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def one_cell_notebooks(folder: Path, count: int) -> None:
    for i in range(count):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("import tcplessons\nprint(tcplessons.__name__)")]
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        NotebookClient(nb, kernel_name="python3").execute()
        nbformat.write(nb, folder / f"{i:02d}-floor.ipynb")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    lessons = sorted((ROOT / "notebooks").glob("*.ipynb"))
    with tempfile.TemporaryDirectory() as tmp:
        floor_dir = Path(tmp) / "notebooks"
        floor_dir.mkdir()
        one_cell_notebooks(floor_dir, len(lessons))
        shutil.copy(ROOT / "pyproject.toml", tmp)
        (Path(tmp) / "tests").mkdir()
        shutil.copy(ROOT / "tests" / "nbval_sanitize.cfg", Path(tmp) / "tests")
        floor, course = [], []
        for _ in range(args.repeat):
            floor.append(run_pytest(["notebooks"], tmp))
            course.append(run_pytest(["--nbval", "notebooks"], ROOT))
    f, c = min(floor), min(course)
    print(f"{len(lessons)} lessons; best of {args.repeat} runs each")
    print(f"one-cell notebooks (floor): {f:6.2f} s")
    print(f"pytest --nbval notebooks:   {c:6.2f} s")
    print(f"ratio:                      {c / f:6.2f}x (target: at most 2x)")


if __name__ == "__main__":
    main()
