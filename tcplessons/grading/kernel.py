"""A kernel the worker drives: start it, run a cell with a time limit, interrupt it,
rebuild it.  Learner output is never kept (a notebook that prints forever cannot fill
memory), and the kernel's own stdout and stderr go nowhere.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from queue import Empty
from typing import Any

__all__ = ["INTERRUPT_GRACE", "Kernel", "KernelGone"]

#: Seconds a kernel gets to answer after an interrupt before it is restarted instead.
INTERRUPT_GRACE = 2.0


class KernelGone(Exception):
    """The kernel did not start within the time left."""


class Kernel:
    """One ``python3`` kernel of the grader's own Python, running cells of ``nb``.

    :meth:`execute` says how a cell ended: ``"ok"`` (finished, maybe with an error),
    ``"interrupted"`` (timed out, then stopped by an interrupt), ``"stuck"`` (ignored the
    interrupt) or ``"dead"`` (the kernel died).  ``on_error(index, text)`` hears of each
    visible cell that raised.
    """

    def __init__(
        self, nb: Any, cwd: str, env: dict[str, str], on_error: Callable[[int, str], None]
    ):
        self.nb, self.cwd, self.env, self.on_error = nb, cwd, env, on_error
        self.km: Any = None
        self.kc: Any = None
        self.client: Any = None
        self.limit = 1.0
        self.hidden = False

    @property
    def pid(self) -> int | None:
        return getattr(getattr(self.km, "provisioner", None), "pid", None)

    async def start(self, within: float) -> None:
        from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
        from jupyter_client.manager import AsyncKernelManager
        from nbclient import NotebookClient

        class CurrentPython(KernelSpecManager):
            def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
                argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
                return KernelSpec(argv=argv, display_name="Python 3", language="python")

        class QuietClient(NotebookClient):
            def output(self, outs, msg, display_id, cell_index):
                return None

            def handle_comm_msg(self, outs, msg, cell_index):
                return None

        self.km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=CurrentPython())
        with open(os.devnull, "wb") as nowhere:
            await self.km.start_kernel(
                # IPython's history database is shared by every kernel of this user.
                extra_arguments=["--HistoryManager.hist_file=:memory:"],
                cwd=self.cwd,
                env=self.env,
                stdin=None,
                stdout=nowhere,
                stderr=nowhere,
            )
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            await self.kc.wait_for_ready(timeout=max(1.0, min(60.0, within)))
        except RuntimeError as exc:
            raise KernelGone(f"the kernel did not start: {exc}") from None
        self.kc.allow_stdin = False
        quiet = logging.getLogger("tcplessons.grading.nbclient")
        quiet.addHandler(logging.NullHandler())
        quiet.propagate = False
        self.client = QuietClient(
            self.nb,
            km=self.km,
            allow_errors=True,
            iopub_timeout=1,
            store_widget_state=False,
            log=quiet,
            record_timing=False,
        )
        self.client.kc = self.kc
        self.client.timeout_func = lambda cell: self.limit
        self.client.on_cell_error = self._cell_error

    def _cell_error(self, cell: Any, cell_index: int, execute_reply: dict) -> None:
        if self.hidden:
            return
        content = execute_reply.get("content", {})
        text = f"{content.get('ename', 'error')}: {content.get('evalue', '')}".strip().rstrip(":")
        self.on_error(cell_index, text.splitlines()[0][:200] if text else "error")

    async def stop(self) -> None:
        km, kc, pid = self.km, self.kc, self.pid
        self.km = self.kc = self.client = None
        if km is None:
            return
        if pid and hasattr(os, "killpg"):
            try:  # the kernel leads its own process group: take its children with it
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        for step in (lambda: kc and kc.stop_channels(), None):
            try:
                if step:
                    step()
                else:
                    await km.shutdown_kernel(now=True)
            except Exception:
                pass
        try:
            await km.cleanup_resources()
        except Exception:
            pass

    async def alive(self) -> bool:
        try:
            return bool(await self.km.is_alive())
        except Exception:
            return False

    async def recovers(self) -> bool:
        """After a timeout: interrupt, then wait briefly for the kernel to answer again."""
        if not await self.alive():
            return False
        try:
            await self.km.interrupt_kernel()
        except Exception:
            return False
        msg_id = self.kc.execute("", silent=True, store_history=False, stop_on_error=False)
        end = time.monotonic() + INTERRUPT_GRACE
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return False
            try:
                msg = await self.kc.get_shell_msg(timeout=left)
            except Empty:
                return False
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return True

    async def execute(self, limit: float, index: int = -1, source: str | None = None) -> str:
        """Run cell ``index``, or ``source`` as a hidden cell, within ``limit`` seconds."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError
        from nbformat.v4 import new_code_cell

        self.limit = limit
        hidden = source is not None
        if hidden:  # nbclient stores the cell back at its index: give it a slot of its own
            cell = new_code_cell(source)
            self.nb.cells.append(cell)
            index = len(self.nb.cells) - 1
        else:
            cell = self.nb.cells[index]
        self.hidden = hidden
        try:
            await self.client.async_execute_cell(cell, index, store_history=not hidden)
        except CellTimeoutError:
            if await self.recovers():
                return "interrupted"
            return "stuck" if await self.alive() else "dead"
        except (DeadKernelError, asyncio.CancelledError):
            return "dead"
        finally:
            cell.outputs = []
            if hidden:
                self.nb.cells.pop()
        return "ok"
