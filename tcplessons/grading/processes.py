"""Processes a notebook leaves behind, and how the worker takes them all along (Linux).

The worker is a child subreaper, so orphans of the notebook's code (even those that
called ``setsid()``) are re-parented to it and :func:`kill_descendants` finds them; it
asks for SIGTERM when its parent, the grader, dies.  In the sandbox a PID namespace
does the same job more thoroughly: when the worker ends, everything in it ends.
"""

from __future__ import annotations

import os
import signal
import time

__all__ = ["descendants", "kill_descendants", "kill_group", "prctl"]

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
#: Seconds to wait for killed processes to go away while tidying up.
REAP_WAIT = 1.0


def prctl(option: int, value: int) -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def kill_group(pid: int) -> None:
    """SIGKILL process group ``pid`` (a worker or a kernel: each leads one of its own)."""
    if not hasattr(os, "killpg"):  # Windows: no process groups
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:  # already gone
        pass


def descendants(root: int) -> list[int]:
    """Every process below ``root`` (Linux ``/proc``; empty elsewhere), deepest last."""
    parents: dict[int, int] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode("ascii", "replace")
            # "pid (name) state ppid ...": the name may hold spaces and brackets.
            fields = stat[stat.rindex(")") + 2 :].split()
            parents[int(entry)] = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
    found: list[int] = []
    frontier = [root]
    while frontier and len(found) < 10000:
        frontier = [pid for pid, ppid in parents.items() if ppid in frontier and pid not in found]
        found += frontier
    return found


def kill_descendants(rounds: int = 5) -> None:
    """SIGKILL every process below this one; a few rounds catch those forked meanwhile."""
    me = os.getpid()
    for _ in range(rounds):
        pids = descendants(me)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        _reap(REAP_WAIT / rounds)


def _reap(seconds: float) -> None:
    """Collect exited children (we are their subreaper) for up to ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.02)  # polling with a deadline for children to exit
