"""Step 5 of the worker: the checks, in a clean process the notebook's top-level code
never ran in (:mod:`.cleanrun`).

Only the definitions each graded exercise needs are taken from the notebook
(:func:`.notebook.program_for`); an exercise whose definitions tamper (the static scan
of :mod:`.integrity`) or that is the course's own helper is not checked.  Each check is
one request; one that kills the process or ignores the interrupt costs that check, and
the process is rebuilt for the next.  Each answer must carry the nonce only this worker
and that process know.
"""

from __future__ import annotations

import ast
import asyncio
import json
import secrets
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .integrity import findings, helper_aliases
from .kernel import INTERRUPT_GRACE
from .lessons import is_elsewhere
from .limits import GiveUp, OutOfTime, seconds
from .notebook import program_for
from .processes import kill_group
from .results import CheckResult
from .runner import HELPER_TIMEOUT, MAX_RESTARTS

if TYPE_CHECKING:
    from .worker import Worker

__all__ = ["check_in_clean_process"]


def _course_names() -> set[str]:
    import tcplessons

    return set(getattr(tcplessons, "__all__", []))


class CleanProcess:
    """The clean process (:mod:`.cleanrun`): the checks imported before any learner code."""

    def __init__(self, worker: Worker, program: str, names: dict[str, str]):
        self.worker, self.program, self.names = worker, program, names
        self.proc: asyncio.subprocess.Process | None = None
        self.nonce = ""
        self.limit = 1.0
        self.restarts = 0
        self.checks: dict[str, list[str]] = {}
        self.defined: list[str] = []
        self.helpers: dict[str, str] = {}
        self.forged = ""

    async def start(self) -> None:

        job = self.worker.job
        # A fresh, unguessable folder and home: nothing the notebook left there is read.
        folder = Path(tempfile.mkdtemp(prefix="clean-", dir=job.job_dir))
        env = self.worker.kernel_env(folder / "home")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tcplessons.grading.cleanrun",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            cwd=str(folder),
            env=env,
            start_new_session=True,  # its own process group: one kill takes all of it
            limit=1 << 22,
        )
        self.nonce = secrets.token_hex(16)
        how, got = await self.ask("prepare", job.package_dir, job.private, at_least=HELPER_TIMEOUT)
        if how != "ok" and self.worker.remaining() <= 0.1:
            raise OutOfTime()
        if how != "ok" or not got or got.get("error"):
            why = (got or {}).get("error") or "the checks could not be loaded in a clean process"
            raise GiveUp(why)
        self.checks = got["checks"]
        how, got = await self.ask("define", self.program, self.names, at_least=HELPER_TIMEOUT)
        if how != "ok" and self.worker.remaining() <= 0.1:
            raise OutOfTime()
        if how != "ok" or got is None:
            raise GiveUp("the notebook's definitions did not finish outside its kernel")
        if got.get("error"):
            self.worker.note(
                f"rebuilding the exercises outside the notebook's kernel raised {got['error']}"
            )
        for what in got.get("touched", []):
            self.worker.tampering(f"its definitions replace {what}")
        self.defined, self.helpers = got.get("defined", []), got.get("helpers", {})

    async def _answer(self, seconds: float) -> bytes | None:
        try:
            return await asyncio.wait_for(self.proc.stdout.readline(), seconds)
        except TimeoutError:
            return None

    async def ask(self, call: str, *args, at_least: float = 0.0) -> tuple[str, dict | None]:
        """Send one request; (how it ended, the answer).  ``how`` is as for a kernel cell."""
        self.limit = self.worker.limit(at_least)
        request = {"call": call, "args": list(args)}
        if call == "prepare":
            request["nonce"] = self.nonce  # the only time it is sent
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            await self.proc.stdin.drain()
        except (ConnectionError, OSError):
            return "dead", None
        how = "ok"
        line = await self._answer(self.limit)
        if line is None:
            how = "interrupted"
            try:
                self.proc.send_signal(signal.SIGINT)
            except ProcessLookupError:
                pass
            line = await self._answer(INTERRUPT_GRACE)
            if line is None:
                return ("stuck" if self.proc.returncode is None else "dead"), None
        if not line:
            return "dead", None
        try:
            got = json.loads(line)
        except ValueError:
            got = {}
        if got.get("nonce") != self.nonce:
            self.forged = f"forged the grader's answer while running {call}"
            self.worker.tampering(self.forged)
            return ("dead" if how == "ok" else how), None
        if got.get("interrupted") and how == "ok":
            got = {"name": "", "passed": False, "message": "your code raised KeyboardInterrupt"}
        return how, got

    async def restart(self) -> None:

        await self.stop()
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            raise GiveUp("the clean process had to be restarted too often")
        await self.start()

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        kill_group(proc.pid)
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            pass


def _failure(how: str, limit: str) -> str:
    if how == "interrupted":
        return (
            f"this check did not finish within {limit}; it was stopped\n"
            "hint: your code probably waits forever (in accept(), recv() or a loop)"
            " for something that never comes"
        )
    if how == "stuck":
        return (
            f"this check did not finish within {limit}, and your code did not stop when interrupted"
        )
    if how == "dead":
        return (
            "the kernel died while running this check (does your code call os._exit() or exit()?)"
        )
    return "this check could not report its result"


def _usable(worker: Worker) -> set[int]:
    """Cells whose definitions count: not check cells, not cells skipped after a restart."""
    usable = {c.index for c in worker.notebook.cells} - set(worker.notebook.check_cells())
    return usable - {
        i for i, why in worker.state.skipped.items() if why and "interrupted" not in why
    }


def _programs(worker: Worker, graded: dict[str, str]) -> dict[str, tuple[str, list[str]]]:
    """Each exercise's program and what in it tampers (static look)."""
    usable = _usable(worker)
    course = _course_names()
    out = {}
    for exercise_id, name in graded.items():
        program, _ = program_for(worker.notebook, [name], usable)
        tree = ast.parse(program or "pass")
        found = findings(tree) + helper_aliases(tree, {exercise_id, name}, course)
        out[exercise_id] = (program, found)
    return out


async def check_in_clean_process(worker: Worker, graded: dict[str, str]) -> None:
    """Run every check of each graded exercise of the notebook's own lessons."""

    state = worker.state
    graded = {
        i: n for i, n in graded.items() if not is_elsewhere(worker.lesson_of[i], state.lessons)
    }
    programs = _programs(worker, graded)
    for exercise_id, (_, found) in programs.items():
        if found:
            state.tampered_exercises[exercise_id] = "; ".join(found)
            worker.tampering(f"{exercise_id}: " + "; ".join(found))
    clean = {i: n for i, n in graded.items() if i not in state.tampered_exercises}
    if not clean:
        return
    program, _ = program_for(worker.notebook, sorted(set(clean.values())), _usable(worker))
    state.current = "the checks"
    clean_process = CleanProcess(worker, program, clean)
    try:
        await clean_process.start()
        for exercise_id in clean:
            names = clean_process.checks.get(exercise_id, [])
            state.check_names[exercise_id] = names
            results: list[CheckResult] = []
            state.results[exercise_id] = results
            if exercise_id in clean_process.helpers:
                state.tampered_exercises[exercise_id] = clean_process.helpers[exercise_id]
                worker.tampering(clean_process.helpers[exercise_id])
                continue
            if exercise_id not in clean_process.defined:
                message = (
                    "not checked: its definition could not be rebuilt outside the notebook's kernel"
                )
                results += [CheckResult(n, False, message) for n in names]
                continue
            for number, name in enumerate(names):
                state.current = f'the check "{name}" of {exercise_id}'
                worker.save()
                how, got = await clean_process.ask("run_check", exercise_id, number)
                if clean_process.forged:
                    state.tampered_exercises[exercise_id] = clean_process.forged
                    clean_process.forged = ""
                if how == "ok" and got is not None and "error" in got:
                    raise GiveUp(f"the grader failed to run a check: {got['error']}")
                if how == "ok" and got is not None:
                    results.append(CheckResult(name, got["passed"] is True, str(got["message"])))
                    if got.get("touched"):
                        touched = ", ".join(got["touched"])
                        state.tampered_exercises[exercise_id] = f"its code replaced {touched}"
                        worker.tampering(
                            f"{exercise_id}: its code replaced {touched} while checked"
                        )
                        await clean_process.restart()  # a clean process for the next exercise
                        break
                    worker.save()
                    continue
                results.append(
                    CheckResult(name, False, _failure(how, seconds(clean_process.limit)))
                )
                worker.save()
                if how in ("stuck", "dead"):
                    await clean_process.restart()
    finally:
        await clean_process.stop()
