"""Grade one notebook: the process the supervisor starts for each submission.

``python -m tcplessons.grading.worker JOB.json`` reads its job, then (in the sandbox, if
the job asks for one, see :mod:`.sandbox`) runs these named steps, streaming its
:class:`~.results.WorkerState` to stdout as one JSON line after each step, so the
supervisor knows what was done even if it has to kill this process:

1. ``read_notebook``: parse every cell with :mod:`ast` (check cells, where each exercise
   is defined, the notebook's own lessons);
2. ``look_for_tampering``: the static scan of :mod:`.integrity`, before any code runs;
3. ``run_cells``: a fresh kernel in a copy of the notebook's folder runs every cell top
   to bottom, as Run All would (:mod:`.runner`);
4. ``take_inventory``: which exercise names that kernel ended up defining; then that
   kernel and everything it started are killed;
5. ``check_in_clean_process``: a fresh Python process that never saw the notebook's
   top-level code imports the checks, runs only the definitions the exercises need
   (extracted with :mod:`ast`) and runs each check on request (:mod:`.checking`,
   :mod:`.cleanrun`);
6. ``tidy_up``: kill every process below this one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .limits import GiveUp, OutOfTime, Stop, seconds
from .processes import (
    PR_SET_CHILD_SUBREAPER,
    PR_SET_DUMPABLE,
    PR_SET_PDEATHSIG,
    kill_descendants,
    prctl,
)
from .results import WorkerState

__all__ = ["main", "package_fingerprint", "seconds"]

# nbformat's validator imports jsonschema, which imports an optional IRI syntax checker
# that takes most of a second to build its grammar; grading never checks IRIs.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]


def package_fingerprint(package_dir: str) -> dict[str, str]:
    """SHA-256 of every file of the tcplessons package (its ``.py`` and compiled ``.pyc``,
    which the supervisor brings up to date first), by relative path."""
    root = Path(package_dir)
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in (".py", ".pyc")
    }


class Job:
    """What the supervisor asked for (see :func:`tcplessons.grading.supervisor.write_job`)."""

    def __init__(self, data: dict[str, Any]):
        self.notebook: str = data["notebook"]
        self.job_dir = Path(data["job_dir"])
        self.workdir = Path(data["workdir"])
        self.timeout = float(data["timeout"])
        self.cell_timeout = float(data["cell_timeout"])
        self.package_dir: str = data["package_dir"]
        self.fingerprint: dict[str, str] = data["fingerprint"]
        self.exercises: list[dict[str, Any]] = data["exercises"]
        self.private: list[list[str]] = data["private_checks"]
        self.sandbox: list[str] = data.get("sandbox") or []
        self.started = float(data.get("started", time.time()))
        self.notes: list[str] = list(data.get("notes") or [])


class Worker:
    """The steps of the module docstring, and the state they fill."""

    def __init__(self, job: Job, out):
        self.job, self.out = job, out
        spent = max(0.0, time.time() - job.started)  # starting this process counts too
        self.deadline = time.monotonic() + job.timeout - spent
        self.state = WorkerState(notes=list(job.notes))
        self.lesson_of = {e["id"]: e.get("lesson", "") for e in job.exercises}
        self.notebook: Any = None
        self.nb: Any = None

    def save(self) -> None:
        self.out.write(self.state.to_json() + "\n")
        self.out.flush()

    def note(self, text: str) -> None:
        if text not in self.state.notes:
            self.state.notes.append(text)
            self.save()

    def tampering(self, text: str) -> None:
        if text not in self.state.tampering:
            self.state.tampering.append(text)
            self.save()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def limit(self, at_least: float = 0.0) -> float:
        """Seconds the next cell may take: the cell timeout, within what is left."""
        left = self.remaining()
        if left <= 0.05:
            raise OutOfTime()
        return min(max(self.job.cell_timeout, at_least), left)

    def kernel_env(self, home: Path) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "JPY_", "IPYTHON"))
        }
        home.mkdir(parents=True, exist_ok=True)
        env.update(HOME=str(home), IPYTHONDIR=str(home / ".ipython"), MPLBACKEND="Agg")
        env.update(PYTHONNOUSERSITE="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
        return env

    # -- 1. read ------------------------------------------------------------------------
    def read_notebook(self) -> bool:
        from .lessons import notebook_lessons
        from .notebook import read_notebook

        path = Path(self.job.notebook)
        try:
            self.notebook, self.nb = read_notebook(str(self.job.workdir / path.name))
        except Exception as exc:  # bad JSON, not a notebook, unreadable file
            text = str(exc).strip()
            reason = text.splitlines()[0] if text else type(exc).__name__
            if path.suffix != ".ipynb":
                reason = f"{path.name} is not a notebook (.ipynb): {reason}"
            self.state.error = f"could not read the notebook: {reason[:200]}"
            return False
        checks: dict[str, list[int]] = {}
        for index, (exercise_id, name) in self.notebook.check_cells().items():
            checks.setdefault(exercise_id, []).append(index)
            if name != exercise_id and exercise_id in self.lesson_of:
                self.state.aliases[exercise_id] = name
        state = self.state
        state.definitions = {e: self.notebook.definitions(e) for e in self.lesson_of}
        state.check_cells = {e: cells for e, cells in checks.items() if e in self.lesson_of}
        state.labels = {c.index: c.label for c in self.notebook.cells}
        tagged = {c.index for c in self.notebook.tagged("exercise")}
        in_tagged = [e for e, cells in state.definitions.items() if set(cells) & tagged]
        state.lessons = notebook_lessons(checks, in_tagged, self.lesson_of)
        self.save()
        return True

    # -- 2. static look -------------------------------------------------------------------
    def look_for_tampering(self) -> None:
        from .integrity import edited_check_cells, findings, imported_names

        cells = [c for c in self.notebook.cells if c.tree is not None]
        imported = imported_names([c.tree for c in cells])
        for text in edited_check_cells(self.notebook):
            self.tampering(text)
        for cell in cells:
            for text in findings(cell.tree, imported):
                self.tampering(f"{cell.label} {text}")

    # -- 3, 4, 5 ------------------------------------------------------------------------
    async def run(self) -> None:
        from .checking import check_in_clean_process
        from .runner import run_cells, take_inventory

        if not self.read_notebook():
            return
        self.look_for_tampering()
        try:
            runner = await run_cells(self)
            graded = await take_inventory(self, runner)
            await runner.stop()
            kill_descendants()  # nothing of the notebook's may run beside the clean process
            # In the sandbox the package is read-only: only the instructor can change it.
            changed = package_fingerprint(self.job.package_dir) != self.job.fingerprint
            if changed and not self.job.sandbox:
                self.tampering("changed the files of the tcplessons package")
                raise GiveUp("the tcplessons package's files were changed while the notebook ran")
            await check_in_clean_process(self, graded)
        except OutOfTime:
            budget = seconds(self.job.timeout)
            where = self.state.current or "the run"
            self.note(f"the time for this notebook ({budget}) ran out while running {where}")
            self.state.stopped = f"the time for this notebook ({budget}) ran out"
        except Stop as exc:
            self.note(f"grading stopped: {exc}")
            self.state.stopped = str(exc)
        finally:
            kill_descendants()  # the kernels and all they started, even outside their groups


def _stay_in_charge(worker_state: WorkerState) -> None:
    """Leave nothing behind: if the grader dies or stops us, take our processes along.

    On Linux this process becomes a child subreaper and asks for SIGTERM when its parent,
    the grader, dies.  SIGTERM and SIGHUP then kill every process below this one, remove
    the grader's temporary folder if the grader is gone, and end this process.
    """
    parent = os.getppid()

    def stop(signum, frame):
        kill_descendants()
        for pid in worker_state.kernel_pids[-1:]:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (OSError, AttributeError):
                pass
        kill_descendants()
        folder = Path(sys.argv[1]).resolve().parent.parent if len(sys.argv) > 1 else None
        if folder and os.getppid() != parent and folder.name.startswith("tcplessons-grading-"):
            import shutil  # the grader is gone: nobody else will remove its temporary folder

            shutil.rmtree(folder, ignore_errors=True)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        os._exit(128 + signum)

    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, stop)
    signal.signal(signal.SIGTERM, stop)
    if sys.platform.startswith("linux"):
        prctl(PR_SET_CHILD_SUBREAPER, 1)
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the grader died before we asked to be told
        stop(signal.SIGTERM, None)


def _channel():
    """Our stdout, kept for the state lines; fd 1 then points at stderr, so that nothing
    else printed here can be taken for a state line."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")  # os.dup: not inherited by kernels
    os.dup2(2, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    job_path = Path(argv[0])
    data = json.loads(job_path.read_text())
    job = Job(data)
    inside = "--inside" in argv
    if job.sandbox and not inside:  # outside: supervise the sandboxed worker, then go
        state = WorkerState()
        _stay_in_charge(state)
        command = [
            *job.sandbox,
            sys.executable,
            "-m",
            "tcplessons.grading.worker",
            str(job_path),
            "--inside",
        ]
        return subprocess.call(command, stdin=subprocess.DEVNULL)
    job_path.unlink(missing_ok=True)  # the private checks' sources: gone before any learner code
    out = _channel()
    worker = Worker(job, out)
    # Inside the sandbox too: a subreaper finds the notebook's setsid() escapees, so none
    # is still running when the clean process starts.
    _stay_in_charge(worker.state)
    prctl(PR_SET_DUMPABLE, 0)  # the kernels cannot open /proc/<this>/fd: the state line is ours
    try:
        asyncio.run(worker.run())
    except BaseException as exc:
        worker.state.fault = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        worker.state.done = True
        worker.save()
        raise
    worker.state.done = True
    worker.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
