"""Measuring servers on your own machine: CPU time of a thread, memory of a process.

Lesson 07 compares a thread per caller with an event loop.  These helpers take the
measurements; the lesson draws them::

    busy = thread_cpu_seconds(server_thread)      # CPU seconds that thread has used
    rss = process_memory(pid)                     # bytes of memory a process holds now

:func:`idle_memory_per_caller` starts a server of each kind in a child process, connects
idle callers to it and reports how much its memory grew per caller (a child process, so
the notebook's own memory does not blur the figure).
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import threading
import time
from typing import Dict, List, Optional, Sequence

__all__ = [
    "idle_memory_per_caller",
    "process_memory",
    "raise_fd_limit",
    "thread_cpu_seconds",
]

#: Kinds of echo server :func:`idle_memory_per_caller` can start.
SERVER_KINDS = ("threads", "selectors", "asyncio")


def thread_cpu_seconds(thread: Optional[threading.Thread] = None) -> float:
    """CPU seconds ``thread`` has used so far (the calling thread by default).

    Where the system cannot tell one thread's CPU time (macOS), the whole process's
    is returned: measure while the other threads are idle.
    """
    if thread is None or thread is threading.current_thread():
        return time.thread_time()
    clock = getattr(time, "pthread_getcpuclockid", None)
    if clock is not None and thread.ident is not None:
        try:
            return time.clock_gettime(clock(thread.ident))
        except (OSError, OverflowError):
            pass
    return time.process_time()


def process_memory(pid: Optional[int] = None) -> int:
    """Resident memory (RSS) of process ``pid`` (this one by default), in bytes."""
    pid = os.getpid() if pid is None else pid
    statm = f"/proc/{pid}/statm"
    if os.path.exists(statm):
        with open(statm) as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    import psutil  # not Linux: psutil knows how to ask

    return psutil.Process(pid).memory_info().rss


def raise_fd_limit(needed: int) -> int:
    """Raise this process's soft limit on open files towards ``needed`` (up to the hard
    limit); return the limit now in force.  Every socket is one open file."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return needed
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return soft
    return target


# -- memory per idle caller, measured in a child process ------------------------------------

_CHILD = r"""
import asyncio, os, socket, sys
from tcplessons.measure import raise_fd_limit, process_memory
kind, most = sys.argv[1], int(sys.argv[2])
raise_fd_limit(most + 100)
if kind == "threads":
    from tcplessons.servers import start_echo_server
    server = start_echo_server(backlog=512)
elif kind == "selectors":
    from tcplessons.eventloop import start_loop_echo_server
    server = start_loop_echo_server(log_data=False, backlog=512)
else:
    from tcplessons.asyncserver import start_async_server
    async def echo(reader, writer):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    server = start_async_server(echo, backlog=512)
print(server.address[1], flush=True)
for line in sys.stdin:  # the parent asks; we answer with our memory now
    if line.strip() == "quit":
        break
    print(process_memory(), flush=True)
sys.stdout.flush()
os._exit(0)  # the system closes every socket at once: faster than stopping 2000 threads
"""


def _connect_served(address, count: int, socks: List[socket.socket]) -> None:
    """Connect ``count`` callers, each echoed once (so the server has really taken it on).

    In groups of 100: more callers ringing at once than the backlog holds would have
    their connection attempts dropped and retried a second later.
    """
    while count > 0:
        group = []
        for _ in range(min(count, 100)):
            sock = socket.create_connection(address, timeout=30)
            socks.append(sock)
            group.append(sock)
            sock.sendall(b"x")
        for sock in group:
            if sock.recv(1) != b"x":
                raise ConnectionError("the server did not echo")
        count -= len(group)


def idle_memory_per_caller(
    kinds: Sequence[str] = SERVER_KINDS, sizes: Sequence[int] = (100, 500, 2000)
) -> Dict[str, Dict[int, float]]:
    """For each kind of echo server, bytes of memory per idle caller at each size.

    Each server runs in a child process; this process connects the callers (each sends
    one byte and gets it back), and the child reports its memory growth since before
    the first caller, divided by the number of callers.
    """
    most = max(sizes)
    raise_fd_limit(most + 100)
    results: Dict[str, Dict[int, float]] = {}
    for kind in kinds:
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, kind, str(most)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        socks: List[socket.socket] = []
        try:
            port = int(child.stdout.readline())

            def ask() -> int:
                child.stdin.write("rss\n")
                child.stdin.flush()
                return int(child.stdout.readline())

            before = ask()
            results[kind] = {}
            for size in sorted(sizes):
                _connect_served(("127.0.0.1", port), size - len(socks), socks)
                results[kind][size] = (ask() - before) / size
            child.stdin.write("quit\n")
            child.stdin.flush()
        finally:
            for sock in socks:
                sock.close()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            child.stdin.close()
            child.stdout.close()
    return results
