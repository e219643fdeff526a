"""Grade a class's notebooks: run each one like Run All, then check its exercises where
the notebook cannot interfere.

From a terminal (see ``python -m tcplessons grade --help``)::

    python -m tcplessons grade submissions/                 # a table of scores
    python -m tcplessons grade submissions/ --csv grades.csv --jobs 4
    python -m tcplessons grade alice.ipynb --json           # machine-readable
    python -m tcplessons grade submissions/ --checks my_checks/   # plus private checks
    python -m tcplessons grade submissions/ --shard 2/8 --output part2.json
    python -m tcplessons gradebook merge part*.json --csv grades.csv

From Python, :func:`grade` returns :class:`Submission` rows; then call
:func:`format_table`, :func:`write_csv` or :func:`to_json` on them.

The parts, one job each: :mod:`.cli` (the command line), :mod:`.submissions` (finding
notebooks, shards, copies), :mod:`.supervisor` (one worker process per notebook, time
limits), :mod:`.worker` (the named steps of one notebook), :mod:`.runner` (Run All in the
notebook's kernel), :mod:`.checking` (the checks, in a clean process), :mod:`.kernel`,
:mod:`.inkernel` (its hidden cell), :mod:`.cleanrun` (the clean process),
:mod:`.notebook` (cells read with ast),
:mod:`.integrity` (the static look for tampering), :mod:`.sandbox` (bubblewrap),
:mod:`.lessons` (the "own lessons" rule), :mod:`.results` and :mod:`.rows` (the typed
results), :mod:`.reports` and :mod:`.progress`.

Threat model.  A learner may read every line of tcplessons and write any code in the
notebook; the grader runs on the instructor's machine.

Prevented:

- Anything the notebook does at its top level changing a verdict: replacing or
  wrapping a tcplessons function, class or check, swapping ``sys.modules`` entries,
  patching ``socket``, ``json``, ``threading`` or ``open``, IPython input transformers
  and hooks, edited check cells.  The checks never run in the notebook's kernel: a
  clean Python process imports tcplessons and the checks first, then runs only the
  definitions the exercises need, extracted from the cells with ``ast``.
- Forged results: the worker's state reaches the grader on a pipe the kernels do not
  hold (the worker is not dumpable, and in the sandbox nothing holds the capability
  to open its ``/proc/<pid>/fd`` anyway); every answer of the clean process carries a
  nonce that only it and the worker know.
- In the bwrap sandbox (``--sandbox``): reading other submissions, the private checks'
  files, the gradebook, the instructor's home or working folder; writing anywhere but
  the submission's own copy; the network beyond loopback; processes that outlive the
  worker; changing the tcplessons package or its compiled files on disk.

Detected, marked TAMPERED with a note naming what was touched (and the exercise not
checked when its own definitions do it): the static look of :mod:`.integrity` at every
cell (replacing attributes of modules, ``check``, ``sys.modules``, hooks, ``exec`` and
friends, ``inspect``/``gc``/frame introspection, reading the checks' files or
``tcplessons.exercises``, ``bytes``/``str`` subclasses that override ``==``, classes
that lie about their type, the course's own helper as the answer); at run time in the
clean process, any function, class, module or check replaced while a definition or a
check ran, and an exercise that is a tcplessons object; the package's files changed
(without the sandbox).

Out of scope: code that hides what it does from both looks (attacks built only from
objects the checks hand it, with no name the static look knows); answers built on the
course's own helpers inside the learner's function; without the sandbox, anything
done through the file system or other processes with the instructor's rights; kernel
or bubblewrap exploits.
"""

from __future__ import annotations

from collections.abc import Sequence

from .progress import Progress
from .reports import format_table, merge_parts, to_json, write_csv
from .results import CheckResult, ExerciseInfo, ExerciseResult, Submission, WorkerState
from .rows import NOT_ATTEMPTED, build_submission
from .sandbox import SandboxUnavailable
from .submissions import GradingError, find_notebooks, shard

__all__ = [
    "CheckResult",
    "ExerciseInfo",
    "ExerciseResult",
    "GradingError",
    "NOT_ATTEMPTED",
    "Progress",
    "SandboxUnavailable",
    "Submission",
    "WorkerState",
    "build_submission",
    "find_notebooks",
    "format_table",
    "grade",
    "merge_parts",
    "to_json",
    "write_csv",
]

#: Default seconds for one whole notebook: its cells and all its checks.
DEFAULT_TIMEOUT = 120.0
#: Default seconds for one cell or one check (capped at a quarter of the notebook's time).
DEFAULT_CELL_TIMEOUT = 30.0


def default_cell_timeout(timeout: float) -> float:
    """The time one cell or check gets when ``--cell-timeout`` is not given."""
    return min(DEFAULT_CELL_TIMEOUT, max(1.0, timeout / 4))


def grade(
    paths: Sequence[str],
    *,
    jobs: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
    cell_timeout: float | None = None,
    checks_dir: str | None = None,
    progress: Progress | None = None,
    sandbox: str = "auto",
    shard_of: tuple[int, int] | None = None,
    hide: Sequence[str] = (),
    warn=None,
) -> list[Submission]:
    """Grade the notebooks in ``paths`` (or shard ``(K, N)`` of them); one row each, in order.

    ``sandbox``: ``"auto"``, ``"require"`` or ``"off"`` (see :mod:`.sandbox`); ``hide``:
    more of the instructor's paths the sandbox hides (the gradebook's).  ``warn(text)``
    hears once why there is no sandbox (default: stderr).
    """
    import sys
    from pathlib import Path

    from . import sandbox as sandboxing
    from .supervisor import Run, exercise_catalogue, grade_notebooks, temporary_folder

    if jobs < 1:
        raise GradingError("--jobs must be at least 1")
    if timeout <= 0:
        raise GradingError("--timeout must be more than 0 seconds")
    if cell_timeout is None:
        cell_timeout = default_cell_timeout(timeout)
    if cell_timeout <= 0:
        raise GradingError("--cell-timeout must be more than 0 seconds")
    if sandbox not in sandboxing.MODES:
        raise GradingError(f"--sandbox must be one of {', '.join(sandboxing.MODES)}")
    notebooks = find_notebooks(paths)
    if shard_of:
        notebooks = shard(notebooks, *shard_of)
    catalogue = exercise_catalogue(checks_dir)

    def to_stderr(text: str) -> None:
        print(f"tcplessons grade: {text}", file=sys.stderr)

    how = sandboxing.choose(sandbox, warn or to_stderr)
    progress = progress or Progress(len(notebooks), enabled=False)
    progress.total = len(notebooks)
    hidden = [*paths, *hide, *(str(Path(p).resolve().parent) for p in hide)]
    hidden += [checks_dir] if checks_dir else []
    hidden += [str(Path(p).parent) for p in paths if Path(p).is_file()]
    with temporary_folder() as tmp:
        run = Run(catalogue, timeout, cell_timeout, checks_dir, how, hidden, Path(tmp))
        return grade_notebooks(notebooks, run, jobs, progress)
