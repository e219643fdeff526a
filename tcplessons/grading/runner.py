"""Steps 3 and 4 of the worker: run the notebook as Run All, then see what it defined.

A cell that does not finish within the cell timeout is interrupted (as the learner
would press the stop button) and the run goes on; a cell that ignores the interrupt or
kills the kernel is skipped: the kernel is rebuilt and the cells before it run again.
Nothing this kernel says can earn a mark: the checks run elsewhere (:mod:`.checking`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .kernel import Kernel, KernelGone
from .limits import GiveUp, OutOfTime, seconds

if TYPE_CHECKING:
    from .worker import Worker

__all__ = ["HELPER_TIMEOUT", "MAX_RESTARTS", "ask", "run_cells", "take_inventory"]

#: Seconds the grader's own hidden cells may take (they import the package), however
#: short the cell timeout: on a busy machine that import alone can take a few seconds.
HELPER_TIMEOUT = 20.0
#: How many times one notebook's kernels may be rebuilt before the rest is given up.
MAX_RESTARTS = 4


def hidden_call(function: str, *args: Any) -> str:
    """One hidden cell calling a function of :mod:`tcplessons.grading.inkernel`."""
    arguments = ", ".join(repr(a) for a in args)
    return f"__import__('tcplessons.grading.inkernel', fromlist=['_']).{function}({arguments})"


async def ask(
    worker: Worker, kernel: Kernel, answer: Path, function: str, *args: Any, at_least: float = 0.0
):
    """Run a hidden helper cell; return (how it ended, its JSON answer or None)."""
    answer.unlink(missing_ok=True)
    how = await kernel.execute(
        worker.limit(at_least), source=hidden_call(function, str(answer), *args)
    )
    try:
        return how, json.loads(answer.read_text())
    except (OSError, ValueError):
        return how, None


class Runner:
    """The notebook's own kernel and what it did with each cell."""

    def __init__(self, worker: Worker):
        self.worker = worker
        self.state = worker.state
        self.kernel: Kernel | None = None
        self.ran: set[int] = set()
        self.restarts = 0

    def error(self, index: int, text: str) -> None:
        self.state.errors[index] = text

    async def start(self) -> None:
        workdir = self.worker.job.workdir
        env = self.worker.kernel_env(workdir.parent / "home")
        self.kernel = Kernel(self.worker.nb, str(workdir), env, self.error)
        try:
            await self.kernel.start(self.worker.remaining())
        except KernelGone:
            if self.worker.remaining() <= 0.05:
                raise OutOfTime() from None
            raise
        if self.kernel.pid and not self.worker.job.sandbox:
            self.state.kernel_pids.append(self.kernel.pid)
        self.worker.save()

    async def stop(self) -> None:
        if self.kernel is not None:
            await self.kernel.stop()
            self.kernel = None

    async def restart(self, why: str) -> None:

        await self.stop()
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            raise GiveUp(f"the kernel had to be restarted too often (last: {why})")
        self.state.errors.clear()
        self.ran.clear()
        await self.start()

    async def run_all(self) -> None:
        """Run every code cell (but the skipped ones) in order in the current kernel."""

        cells = self.worker.notebook.cells
        position = 0
        while position < len(cells):
            cell = cells[position]
            position += 1
            if cell.index in self.state.skipped or cell.index in self.ran:
                continue
            self.state.current = cell.label
            self.worker.save()
            how = await self.kernel.execute(self.worker.limit(), cell.index)
            self.ran.add(cell.index)
            limit = seconds(self.kernel.limit)
            if how == "interrupted":
                self.worker.note(
                    f"{cell.label} did not finish within {limit}; it was interrupted and the run went on"
                )
                self.state.skipped[cell.index] = (
                    f"did not finish within {limit} and was interrupted"
                )
            elif how in ("stuck", "dead"):
                if how == "stuck":
                    self.state.skipped[cell.index] = (
                        f"did not finish within {limit} and did not stop when interrupted"
                    )
                    why = f"{cell.label} {self.state.skipped[cell.index]}"
                else:
                    why = f"the kernel died while running {cell.label} (os._exit()? exit()?)"
                    self.state.skipped[cell.index] = "killed the kernel (os._exit()? exit()?)"
                self.worker.note(
                    f"{why}; that cell was skipped and the cells before it were run again"
                )
                await self.restart(why)
                position = 0  # a fresh kernel: run the cells before this one again


async def run_cells(worker: Worker) -> Runner:
    """Step 3: a fresh kernel in the copy of the notebook's folder runs every cell."""
    for index in worker.notebook.check_cells():
        worker.state.skipped[index] = ""  # silently: the grader runs those checks itself
    runner = Runner(worker)
    await runner.start()
    await runner.run_all()
    return runner


async def take_inventory(worker: Worker, runner: Runner) -> dict[str, str]:
    """Step 4: which exercises the notebook's kernel defines; id -> the name to grade."""

    worker.state.current = ""
    answer = worker.job.job_dir / "inventory.json"
    ids = list(worker.lesson_of)
    how, found = await ask(
        worker,
        runner.kernel,
        answer,
        "inventory",
        worker.job.package_dir,
        ids,
        worker.state.aliases,
        at_least=HELPER_TIMEOUT,
    )
    if how == "ok" and found is None:
        raise GiveUp(
            "the grader's checking code could not run in this notebook's kernel"
            " (does the notebook's folder hold a module named tcplessons?)"
        )
    if how != "ok":
        raise GiveUp(
            f"the grader's checking code did not finish within {seconds(runner.kernel.limit)}"
            " in this notebook's kernel"
            if how in ("interrupted", "stuck")
            else "the kernel died while the grader was looking for the exercises"
        )
    if found.get("error"):
        raise GiveUp(found["error"])
    aliased = found.get("aliased") or {}
    for exercise_id, name in aliased.items():
        worker.note(
            f"{exercise_id} is not defined, but its check cell passes {name}: {name} was graded as"
            f" {exercise_id} (name the function {exercise_id}, as the exercise asks)"
        )
    defined = [i for i in found.get("defined", []) if i in worker.lesson_of]
    worker.state.defined = sorted(defined)
    worker.save()
    return {i: aliased.get(i, i) for i in defined}
