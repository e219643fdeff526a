"""Determinism drill: `pytest --nbval notebooks` three times in a row, twice side by side
(two learners on one JupyterHub host), and once with both cores kept busy.

    python tests/benchmarks/nbval_under_load.py

Prints each run's outcome and wall-clock time; exits non-zero if any run failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "notebooks"]
BUSY = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass\n"


def start() -> subprocess.Popen:
    return subprocess.Popen(
        COMMAND, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def finish(proc: subprocess.Popen, label: str, started: float) -> bool:
    out, _ = proc.communicate(timeout=900)
    last = out.strip().splitlines()[-1] if out.strip() else ""
    print(
        f"{label:28} {'ok  ' if proc.returncode == 0 else 'FAIL'} {time.perf_counter() - started:6.1f} s  {last}"
    )
    if proc.returncode:
        print(out[-3000:])
    return proc.returncode == 0


def main() -> int:
    ok = True
    for i in range(3):
        t = time.perf_counter()
        ok &= finish(start(), f"in a row, run {i + 1}", t)
    t = time.perf_counter()
    pair = [start(), start()]
    ok &= all([finish(p, f"side by side, run {n}", t) for n, p in enumerate(pair, 1)])
    # Bounded busy loops: they end by themselves after 300 s at the latest.
    hogs = [
        subprocess.Popen([sys.executable, "-c", BUSY.format(seconds=300)])
        for _ in range(os.cpu_count() or 2)
    ]
    try:
        t = time.perf_counter()
        ok &= finish(start(), "with every core busy", t)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
