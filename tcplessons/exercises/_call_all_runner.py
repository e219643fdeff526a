"""The event loop lesson 07's ``call_all`` checks run the learner's coroutine on:
:func:`_run_learner`, and the hints of what it finds (a call that never returns, an
exception for the whole batch, tasks left running).

The learner's coroutine runs on a loop of the check's own, in a thread of its own (the
notebook's own loop is busy running the notebook).  The checks are in
:mod:`.async_clients`; the servers it calls are in :mod:`._call_all_servers`.
"""

from __future__ import annotations

import asyncio
import inspect

from ._call_all_servers import PROBE
from .model import CheckFailed
from .tools import LearnerCall

__all__: list[str] = []

#: Seconds beyond the learner's own timeout that call_all may take before it counts as stuck.
GRACE = 4.0

SLOT_HINT = (
    "catch the error inside the coroutine that talks to one server and return the exception "
    "object as that server's reply (or use asyncio.gather(..., return_exceptions=True)); "
    "one server's failure must not cancel or hide the others (in an asyncio.TaskGroup, one "
    "task's exception cancels all the others: catch it inside each task)"
)
TIMEOUT_HINT = (
    "wrap each server's whole exchange in asyncio.wait_for(..., timeout) or "
    "`async with asyncio.timeout(timeout):`, and close the writer when it times out"
)
BATCH_TIMEOUT_HINT = (
    "give each server its own timeout (asyncio.wait_for or asyncio.timeout inside the coroutine "
    "for one server), not one timeout around the whole gather: one slow server must not turn "
    "the others' replies into TimeoutError"
)
PENDING_HINT = (
    "when a server's time is up, cancel its task (asyncio.wait_for and asyncio.timeout do that "
    "for you; after asyncio.wait(..., timeout=...) call task.cancel() on each pending one) "
    "and close its writer in a finally: block; a task left running keeps its connection open"
)
ASYNC_HINT = (
    "define it with `async def call_all(addresses, message, timeout):` and await the streams inside"
)


def _run_learner(fn, addresses, message: bytes, timeout: float, *, while_open=None, box=None):
    """Run the learner's ``call_all`` on a loop of the check's own, in a thread of its own.

    When it returns, the loop goes on running for a moment: tasks the learner started and
    left running are counted (a failure), and ``while_open()`` runs in a worker thread so a
    server can see whether the learner closed its connection while the learner's objects
    are still alive (not closed later by garbage collection).  Leftover tasks are then
    cancelled and gathered with ``return_exceptions=True``, and the loop's exception handler
    records what asyncio would print, so the check cell shows no traceback.  ``box`` (a
    dict) receives the loop as ``box["loop"]``.
    """
    box = {} if box is None else box
    unhandled: list[str] = []

    async def main(loop):
        result = fn(addresses, message, timeout)
        if not inspect.isawaitable(result):
            raise CheckFailed(
                f"call_all returned {type(result).__name__}, not a coroutine to await",
                hint=ASYNC_HINT,
            )
        value = await result
        for _ in range(3):  # writer.close() closes the socket on the loop's next turn
            await asyncio.sleep(0)
        me = asyncio.current_task()
        box["pending"] = sum(1 for t in asyncio.all_tasks() if t is not me and not t.done())
        if while_open is not None:
            await loop.run_in_executor(None, while_open)
        return value

    kept = []  # every StreamWriter made on the check's loop, so that garbage collection
    # cannot close a connection the learner forgot (StreamWriter.__del__ closes its
    # transport).  Kept where writers are made, not where open_connection is looked up:
    # `from asyncio import open_connection` in the learner's code must not slip past.
    real_init = asyncio.StreamWriter.__init__

    def init_kept(writer, *args, **kwargs):
        real_init(writer, *args, **kwargs)
        if getattr(writer, "_loop", None) is box.get("loop"):
            kept.append(writer)

    def run():
        asyncio.StreamWriter.__init__ = init_kept
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(lambda _loop, context: unhandled.append(context["message"]))
        asyncio.set_event_loop(loop)  # this thread's own: learner code may ask for it
        box["loop"] = loop
        try:
            return loop.run_until_complete(main(loop))
        finally:
            asyncio.StreamWriter.__init__ = real_init
            for writer in kept:
                if not writer.transport.is_closing():
                    writer.transport.abort()
            try:
                leftovers = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in leftovers:
                    task.cancel()
                if leftovers:
                    loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    call = LearnerCall(run).start()
    limit = timeout + GRACE + (PROBE if while_open is not None else 0)
    if not call.join(limit):
        raise CheckFailed(
            f"call_all did not return within {limit:g} s (its timeout was {timeout:g} s)",
            hint=TIMEOUT_HINT,
        )
    try:
        value = call.result()
    except (NotImplementedError, CheckFailed):
        raise
    except BaseException as exc:  # gather without return_exceptions, a TaskGroup, ...
        if isinstance(exc, KeyboardInterrupt):
            raise
        if isinstance(exc, TimeoutError) or (
            isinstance(exc, BaseExceptionGroup)
            and all(isinstance(e, TimeoutError) for e in exc.exceptions)
        ):
            raise CheckFailed(
                "call_all raised TimeoutError for the whole batch",
                hint=BATCH_TIMEOUT_HINT,
                cause="batch timeout",
            ) from None
        raise CheckFailed(
            f"call_all raised {type(exc).__name__} for the whole batch",
            hint=SLOT_HINT,
            cause="whole batch",
        ) from None
    if box.get("pending"):
        raise CheckFailed(
            f"call_all returned while {box['pending']} of the tasks it started were still running",
            hint=PENDING_HINT,
            cause="pending",
        )
    return value
