"""Supervising the workers: one process per notebook, a hard time limit each, at most
``jobs`` at once, and everything stopped on Ctrl-C.

Each worker gets a folder of its own in the grader's temporary folder: its job, its copy
of the submission's folder, its kernels' answers.  The worker streams its state as JSON
lines on its stdout; the last complete line is what it learnt, even if it had to be
killed.  In the sandbox (:mod:`.sandbox`) the worker sees only that folder.
"""

from __future__ import annotations

import compileall
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from .processes import kill_group
from .progress import Progress
from .results import ExerciseInfo, Submission, WorkerState
from .rows import build_submission
from .sandbox import bwrap_command
from .submissions import GradingError, copy_submission
from .worker import package_fingerprint

__all__ = ["Run", "grade_notebooks"]

#: Seconds the worker gets beyond the notebook's time to tidy up before it is killed.
KILL_GRACE = 3.0
#: Seconds a worker gets after SIGTERM to stop its kernels before SIGKILL.
STOP_GRACE = 2.0
#: Characters of a worker's stderr kept to explain a grader fault.
STDERR_KEPT = 4000

_running: dict[int, subprocess.Popen] = {}
_running_lock = threading.Lock()
_stopping = threading.Event()  # set on Ctrl-C: start no more workers


def exercise_catalogue(checks_dir: str | None) -> list[ExerciseInfo]:
    """Every exercise the grader knows (the course's, plus ``checks_dir``'s), in order."""
    from ..exercises import all_exercises, load_checks_dir

    if checks_dir:
        try:
            load_checks_dir(checks_dir)
        except NotADirectoryError as exc:
            raise GradingError(str(exc)) from None
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            raise GradingError(
                f"the private checks in {checks_dir} failed to load: {reason}"
            ) from None
    return [ExerciseInfo(e.id, e.lesson, [c.name for c in e.checks]) for e in all_exercises()]


def stop_workers(procs: list[subprocess.Popen]) -> None:
    """SIGTERM each worker (it kills its kernels and all below), then SIGKILL its group."""
    for proc in procs:
        try:
            proc.send_signal(signal.SIGTERM)
        except OSError:
            pass
    end = time.monotonic() + STOP_GRACE
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        kill_group(proc.pid)


def stop_all() -> None:
    with _running_lock:
        _stopping.set()
        procs = list(_running.values())
    stop_workers(procs)


def _last_state(stdout: bytes) -> WorkerState | None:
    for line in reversed(stdout.splitlines()):
        try:
            return WorkerState.from_json(line.decode("utf-8"))
        except (ValueError, TypeError, UnicodeDecodeError):
            continue
    return None


class Run:
    """One grading run's settings, shared by the threads that each supervise a worker."""

    def __init__(self, catalogue, timeout, cell_timeout, checks_dir, sandbox, hide, tmp: Path):
        self.catalogue: list[ExerciseInfo] = catalogue
        self.timeout, self.cell_timeout = timeout, cell_timeout
        self.sandbox: str = sandbox
        self.hide: list[str] = hide
        self.tmp = tmp
        self.package_dir = Path(__file__).resolve().parent.parent
        # Compiled files up to date now, so that no kernel rewrites one while grading.
        compileall.compile_dir(str(self.package_dir), quiet=2)
        self.fingerprint = package_fingerprint(str(self.package_dir))
        self.private: list[list[str]] = []
        if checks_dir:  # handed to the clean process as text: the sandbox hides the folder
            self.private = [
                [p.name, p.read_text(encoding="utf-8")]
                for p in sorted(Path(checks_dir).glob("*.py"))
            ]

    def write_job(self, notebook: Path, number: int) -> Path:
        job_dir = self.tmp / f"nb{number}"
        workdir = job_dir / "submission"
        job_dir.mkdir()
        note = copy_submission(notebook, workdir)
        job = {
            "notebook": str(notebook.resolve()),
            "job_dir": str(job_dir),
            "workdir": str(workdir),
            "notes": [note] if note else [],
            "timeout": self.timeout,
            "cell_timeout": self.cell_timeout,
            "package_dir": str(self.package_dir),
            "fingerprint": self.fingerprint,
            "exercises": [ex.__dict__ for ex in self.catalogue],
            "private_checks": self.private,
            "sandbox": bwrap_command(job_dir, self.package_dir, [*self.hide, str(self.tmp)])
            if self.sandbox == "bwrap"
            else [],
            "started": time.time(),  # the budget counts from here, the worker's start-up too
        }
        path = job_dir / "job.json"
        path.write_text(json.dumps(job))
        return path

    def grade_one(self, notebook: Path, number: int) -> Submission:
        """Run the worker for one notebook under a hard time limit; return its row."""
        with _running_lock:  # the lock: Ctrl-C sees every worker started
            if _stopping.is_set():
                return build_submission(
                    str(notebook), self.catalogue, WorkerState(), "grading was interrupted"
                )
            job = self.write_job(notebook, number)
            proc = subprocess.Popen(
                [sys.executable, "-m", "tcplessons.grading.worker", str(job)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=str(job.parent),
                start_new_session=True,  # its own process group: one kill takes all of it
            )
            _running[proc.pid] = proc
        killed = False
        try:
            out, err = proc.communicate(timeout=self.timeout + KILL_GRACE)
        except subprocess.TimeoutExpired:
            killed = True
            stop_workers([proc])
            out, err = proc.communicate()
        finally:
            with _running_lock:
                _running.pop(proc.pid, None)
        state = _last_state(out) or WorkerState()
        if (killed or proc.returncode != 0) and self.sandbox != "bwrap":
            for pid in state.kernel_pids:  # kernels lead process groups of their own
                kill_group(pid)
        return build_submission(
            str(notebook),
            self.catalogue,
            state,
            *self._stop_and_fault(state, proc, killed, err),
            self.sandbox,
        )

    def _stop_and_fault(self, state: WorkerState, proc: subprocess.Popen, killed: bool, err: bytes):
        if killed:
            where = state.current or "its first cell"
            return (
                f"grading this notebook was stopped after {self.timeout:g} s (while running {where})",
                "",
            )
        if state.fault or (proc.returncode or 0) > 0:
            stderr = err[-STDERR_KEPT:].decode("utf-8", "replace").strip()
            last = stderr.splitlines()[-1] if stderr else f"exit status {proc.returncode}"
            fault = state.fault or last
            return f"the grader failed on this notebook: {fault}", fault
        if not state.done:
            number = -proc.returncode if proc.returncode else "?"
            return (
                f"the grading process was killed (signal {number}), perhaps by the notebook's code",
                "",
            )
        return "", ""


def grade_notebooks(
    notebooks: Sequence[Path], run: Run, jobs: int, progress: Progress
) -> list[Submission]:
    """Grade ``notebooks`` with ``jobs`` workers at once; rows in the notebooks' order."""
    results: list[Submission | None] = [None] * len(notebooks)
    progress.start()
    pool = ThreadPoolExecutor(max_workers=jobs)
    futures: dict[Any, int] = {}
    try:
        futures = {pool.submit(run.grade_one, nb, i): i for i, nb in enumerate(notebooks)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            progress.finished(results[futures[future]])
    except BaseException:
        for future in futures:
            future.cancel()
        stop_all()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [r for r in results if r is not None]


def temporary_folder():
    return tempfile.TemporaryDirectory(prefix="tcplessons-grading-", ignore_cleanup_errors=True)
