"""Watching the learner's ``echo_loop`` thread from outside (lesson 07's checks).

:func:`_stuck_at` tells a loop stuck in a blocking call from a working one, by looking a
few times at where the thread is and counting its socket calls meanwhile;
:func:`_reference_spin_cpu` measures how much CPU a busy-poll loop gets on this machine
right now, the yardstick of the idle-CPU check, and :func:`_selectors_of` finds the
selectors the loop holds, to tell why an idle loop spins.

The harness that calls :func:`_stuck_at` is in :mod:`._eventloop_harness`; the checks are
in :mod:`.eventloop`.
"""

from __future__ import annotations

import linecache
import select
import selectors
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType

from ._eventloop_terms import PROMPT, SLICE


def _frames(thread: threading.Thread) -> Iterator[FrameType]:
    """The frames ``thread`` is in now, innermost first (none once it has ended)."""
    frame = sys._current_frames().get(thread.ident)
    while frame is not None:
        yield frame
        frame = frame.f_back


def _where(thread: threading.Thread):
    """(code, instruction, in select?, learner line) of where ``thread`` is now, or None."""
    frames = list(_frames(thread))
    if not frames:
        return None
    code, lasti = frames[0].f_code, frames[0].f_lasti
    in_select = code.co_name == "select" or code.co_filename.endswith("selectors.py")
    line = ""
    for frame in frames:  # the innermost frame of the learner's own code
        name = frame.f_code.co_filename
        if "tcplessons" not in name and "python3" not in name and "lib/python" not in name:
            line = linecache.getline(name, frame.f_lineno).strip()
            break
    if not in_select and "select(" in line:
        in_select = True  # select.select() itself is written in C: no frame of its own
    return code, lasti, in_select, line


def _stuck_at(thread: threading.Thread, calls: list[int]) -> str | None:
    """The line a loop thread is stuck on, if it sat outside select() at one place throughout
    a few looks and made no socket call meanwhile (``calls[0]`` counts them: a working loop
    is either in select() or moving); else None."""
    looks = []
    calls_before = calls[0]
    for _ in range(5):
        if not thread.is_alive():
            return None
        where = _where(thread)
        if where is None or where[2]:
            return None
        looks.append(where)
        threading.Event().wait(SLICE)
    if calls[0] != calls_before or len({(code, lasti) for code, lasti, _, _ in looks}) != 1:
        return None
    line = looks[-1][3]
    return f"`{line}`" if line else ""


def _selectors_of(thread: threading.Thread) -> list[selectors.BaseSelector]:
    """The selectors the loop thread's code holds: in its functions' variables, their
    module's globals, or one attribute deep in an object (``self.selector``).  They tell
    an idle loop's mistake apart: which sockets it watches, for what."""
    found: dict[int, selectors.BaseSelector] = {}
    for frame in _frames(thread):
        if "tcplessons" not in frame.f_code.co_filename:
            # Only the globals this code names: a notebook holds other selectors too.
            named = {n: frame.f_globals[n] for n in frame.f_code.co_names if n in frame.f_globals}
            for value in [*frame.f_locals.values(), *named.values()]:
                try:
                    inner = list(vars(value).values()) if hasattr(value, "__dict__") else []
                except Exception:  # an object that will not show its attributes
                    inner = []
                for candidate in (value, *inner):
                    if isinstance(candidate, selectors.BaseSelector):
                        found[id(candidate)] = candidate
    return list(found.values())


def _spin_reference(stop: threading.Event, used: list) -> None:
    """A busy-poll loop, the kind the idle check must catch: select() with a zero timeout."""
    started = time.thread_time()
    while not stop.is_set():
        select.select([], [], [], 0)
    used.append(time.thread_time() - started)


def _reference_spin_cpu(window: float, alongside=None) -> float:
    """CPU seconds a busy-poll thread gets in ``window`` s; ``alongside()`` runs meanwhile."""
    stop, used = threading.Event(), []
    spinner = threading.Thread(target=_spin_reference, args=(stop, used), daemon=True)
    spinner.start()
    try:
        if alongside is not None:
            alongside()
        else:
            threading.Event().wait(window)
    finally:
        stop.set()
        spinner.join(PROMPT)
    return used[0] if used else 0.0
