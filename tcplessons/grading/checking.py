"""Step 5 of the worker: the checks, in a clean kernel the notebook's top-level code
never ran in.

Only the definitions each graded exercise needs are taken from the notebook
(:func:`.notebook.program_for`); an exercise whose definitions tamper (the static scan
of :mod:`.integrity`) or that is the course's own helper is not checked.  Each check runs
in a hidden cell of its own; one that kills the kernel or ignores the interrupt costs
that check, and the clean kernel is rebuilt for the next.  Each answer must carry the
nonce only this worker and its hidden cell know.
"""

from __future__ import annotations

import ast
import secrets
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .integrity import findings, helper_aliases
from .kernel import Kernel
from .lessons import is_elsewhere
from .notebook import program_for
from .results import CheckResult
from .runner import HELPER_TIMEOUT, MAX_RESTARTS, ask

if TYPE_CHECKING:
    from .worker import Worker

__all__ = ["check_in_clean_kernel"]


def _course_names() -> set[str]:
    import tcplessons

    return set(getattr(tcplessons, "__all__", []))


class CleanKernel:
    """A kernel that imported the checks before any of the notebook's code existed."""

    def __init__(self, worker: Worker, program: str, names: dict[str, str]):
        self.worker, self.program, self.names = worker, program, names
        self.kernel: Kernel | None = None
        self.nonce = ""
        self.answer = worker.job.job_dir / "answer.json"
        self.restarts = 0
        self.checks: dict[str, list[str]] = {}
        self.defined: list[str] = []
        self.helpers: dict[str, str] = {}

    async def start(self) -> None:
        from nbformat.v4 import new_notebook

        from .worker import GiveUp

        job = self.worker.job
        # Fresh, unguessable folders: nothing the notebook left on disk is read here.
        home = Path(tempfile.mkdtemp(prefix="clean-", dir=job.job_dir))
        env = self.worker.kernel_env(home / "home")
        env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")  # no stale or planted .pyc
        self.kernel = Kernel(new_notebook(), str(home), env, lambda index, text: None)
        await self.kernel.start(self.worker.remaining())
        self.nonce = secrets.token_hex(16)
        how, got = await self.ask("prepare", job.package_dir, job.private, at_least=HELPER_TIMEOUT)
        if how != "ok" or not got or got.get("error"):
            why = (got or {}).get("error") or "the checks could not be loaded in a clean kernel"
            raise GiveUp(why)
        self.checks = got["checks"]
        how, got = await self.ask("define", self.program, self.names, at_least=HELPER_TIMEOUT)
        if how != "ok" or got is None:
            raise GiveUp("the notebook's definitions did not finish in the clean kernel")
        if got.get("error"):
            self.worker.note(f"rebuilding the exercises outside the notebook raised {got['error']}")
        for what in got.get("touched", []):
            self.worker.tampering(f"its definitions replace {what}")
        self.defined, self.helpers = got.get("defined", []), got.get("helpers", {})

    async def ask(self, function: str, *args, at_least: float = 0.0):
        how, got = await ask(self.worker, self.kernel, self.answer, function, *args, self.nonce, at_least=at_least)
        if got is not None and got.get("nonce") != self.nonce and "error" not in got:
            self.worker.tampering(f"forged the grader's answer file while running {function}")
            return how, None
        return how, got

    async def restart(self) -> None:
        from .worker import GiveUp

        await self.stop()
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            raise GiveUp("the clean kernel had to be restarted too often")
        await self.start()

    async def stop(self) -> None:
        if self.kernel is not None:
            await self.kernel.stop()
            self.kernel = None


def _failure(how: str, limit: str) -> str:
    if how == "interrupted":
        return (
            f"this check did not finish within {limit}; it was stopped\n"
            "hint: your code probably waits forever (in accept(), recv() or a loop)"
            " for something that never comes"
        )
    if how == "stuck":
        return f"this check did not finish within {limit}, and your code did not stop when interrupted"
    if how == "dead":
        return "the kernel died while running this check (does your code call os._exit() or exit()?)"
    return "this check could not report its result"


def _usable(worker: Worker) -> set[int]:
    """Cells whose definitions count: not check cells, not cells skipped after a restart."""
    usable = {c.index for c in worker.notebook.cells} - set(worker.notebook.check_cells())
    return usable - {i for i, why in worker.state.skipped.items() if why and "interrupted" not in why}


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


async def check_in_clean_kernel(worker: Worker, graded: dict[str, str]) -> None:
    """Run every check of each graded exercise of the notebook's own lessons."""
    from .worker import seconds

    state = worker.state
    graded = {i: n for i, n in graded.items() if not is_elsewhere(worker.lesson_of[i], state.lessons)}
    programs = _programs(worker, graded)
    for exercise_id, (_, found) in programs.items():
        if found:
            state.tampered_exercises[exercise_id] = "; ".join(found)
            worker.tampering(f"{exercise_id}: " + "; ".join(found))
    clean = {i: n for i, n in graded.items() if i not in state.tampered_exercises}
    if not clean:
        return
    program, _ = program_for(worker.notebook, sorted(set(clean.values())), _usable(worker))
    state.current = "the clean kernel"
    kernel = CleanKernel(worker, program, clean)
    try:
        await kernel.start()
        for exercise_id in clean:
            names = kernel.checks.get(exercise_id, [])
            state.check_names[exercise_id] = names
            results: list[CheckResult] = []
            state.results[exercise_id] = results
            if exercise_id in kernel.helpers:
                state.tampered_exercises[exercise_id] = kernel.helpers[exercise_id]
                worker.tampering(kernel.helpers[exercise_id])
                continue
            if exercise_id not in kernel.defined:
                message = "not checked: its definition could not be rebuilt outside the notebook's kernel"
                results += [CheckResult(n, False, message) for n in names]
                continue
            for number, name in enumerate(names):
                state.current = f'the check "{name}" of {exercise_id}'
                worker.save()
                how, got = await kernel.ask("run_check", exercise_id, number)
                if how == "ok" and got is not None:
                    results.append(CheckResult(name, bool(got["passed"]), str(got["message"])))
                    if got.get("touched"):
                        touched = ", ".join(got["touched"])
                        state.tampered_exercises[exercise_id] = f"its code replaced {touched}"
                        worker.tampering(f"{exercise_id}: its code replaced {touched} while checked")
                        await kernel.restart()  # a clean kernel for the next exercise
                        break
                    worker.save()
                    continue
                results.append(CheckResult(name, False, _failure(how, seconds(kernel.kernel.limit))))
                worker.save()
                if how in ("stuck", "dead"):
                    await kernel.restart()
    finally:
        await kernel.stop()
