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
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

try:
    import resource  # Unix only
except ImportError:  # Windows: no per-process limit on open files to raise
    resource = None

__all__ = [
    "fanout_per_second",
    "idle_memory_per_caller",
    "process_memory",
    "raise_fd_limit",
    "thread_cpu_seconds",
]

#: Kinds of echo server :func:`idle_memory_per_caller` can start.
SERVER_KINDS = ("threads", "selectors", "asyncio")


def thread_cpu_seconds(thread: threading.Thread | None = None) -> float:
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


def process_memory(pid: int | None = None) -> int:
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
    if resource is None:
        return needed
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


def _connect_served(address, count: int, socks: list[socket.socket]) -> None:
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
) -> dict[str, dict[int, float]]:
    """For each kind of echo server, bytes of memory per idle caller at each size.

    Each server runs in a child process; this process connects the callers (each sends
    one byte and gets it back), and the child reports its memory growth since before
    the first caller, divided by the number of callers.
    """
    most = max(sizes)
    raise_fd_limit(most + 100)
    # Start every child first: their start-up (importing Python and the package) overlaps.
    children = {
        kind: subprocess.Popen(
            [sys.executable, "-c", _CHILD, kind, str(most)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for kind in kinds
    }
    results: dict[str, dict[int, float]] = {}
    try:
        # One thread per child: connecting thousands of callers is mostly waiting for
        # the servers, so the three measurements overlap (each child's RSS is its own).
        with ThreadPoolExecutor(len(children)) as pool:
            futures = {kind: pool.submit(_measure_child, c, sizes) for kind, c in children.items()}
            results = {kind: future.result() for kind, future in futures.items()}
    finally:
        for child in children.values():
            _end_child(child)
    return results


def _measure_child(child: subprocess.Popen, sizes: Sequence[int]) -> dict[int, float]:
    socks: list[socket.socket] = []

    def ask(what: str) -> str:
        child.stdin.write(what + "\n")
        child.stdin.flush()
        return child.stdout.readline()

    try:
        port = int(child.stdout.readline())
        before = int(ask("rss"))
        found = {}
        for size in sorted(sizes):
            _connect_served(("127.0.0.1", port), size - len(socks), socks)
            found[size] = (int(ask("rss")) - before) / size
        return found
    finally:
        for sock in socks:
            sock.close()


def _end_child(child: subprocess.Popen) -> None:
    try:
        child.stdin.write("quit\n")
        child.stdin.flush()
    except OSError:
        pass
    try:
        child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    for pipe in (child.stdin, child.stdout):
        try:
            pipe.close()
        except OSError:  # the child is gone: nothing left to flush
            pass


# -- fan-out: one speaker, every other member hears each line ------------------------------

READY = b"ok\n"  # what a broadcast server says once a member is in the room


def _thread_broadcast(name: str):
    """Lesson 06's design, stripped to the fan-out: a thread per member, sendall() to each."""
    from .servers import start_server

    members: list[socket.socket] = []
    lock = threading.Lock()

    def handler(conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with lock:
            members.append(conn)
        conn.sendall(READY)
        rest = b""
        try:
            while data := conn.recv(65536):
                *lines, rest = (rest + data).split(b"\n")
                for line in lines:
                    with lock:
                        others = [m for m in members if m is not conn]
                    for member in others:
                        member.sendall(line + b"\n")
        finally:
            with lock:
                members.remove(conn)

    return start_server(handler, name, backlog=512)


def _loop_broadcast(name: str):
    """The same room on the selectors core: write() to each member's outbox."""
    from .eventloop import Protocol, start_loop_server

    members: set = set()

    class Broadcast(Protocol):
        def connection_made(self, conn) -> None:
            self.conn, self.rest = conn, b""
            members.add(conn)
            conn.write(READY)

        def data_received(self, data: bytes) -> None:
            *lines, self.rest = (self.rest + data).split(b"\n")
            for line in lines:
                for member in members:
                    if member is not self.conn:
                        member.write(line + b"\n")

        def connection_lost(self) -> None:
            members.discard(self.conn)

    return start_loop_server(Broadcast, name=name, log_data=False, backlog=512)


def _asyncio_broadcast(name: str):
    """The same room with asyncio streams: write() to each member, drain() our own."""
    from .asyncserver import start_async_server

    members: set = set()

    async def broadcast(reader, writer) -> None:
        members.add(writer)
        writer.write(READY)
        try:
            while line := await reader.readline():
                for member in members:
                    if member is not writer:
                        member.write(line)
                await writer.drain()
        finally:
            members.discard(writer)

    return start_async_server(broadcast, name, backlog=512)


BROADCAST_SERVERS = {
    "threads": _thread_broadcast,
    "selectors": _loop_broadcast,
    "asyncio": _asyncio_broadcast,
}


def fanout_per_second(kind: str, members: int, messages: int = 20, deadline: float = 60.0) -> float:
    """Deliveries per second: one member sends ``messages`` lines at once, and every other
    member must receive all of them.  ``kind`` is "threads", "selectors" or "asyncio"."""
    raise_fd_limit(2 * members + 100)
    server = BROADCAST_SERVERS[kind](f"fanout {kind}")
    socks: list[socket.socket] = []
    try:
        for start in range(0, members, 100):  # groups: the backlog holds only so many
            group = [
                socket.create_connection(server.address, timeout=30)
                for _ in range(min(100, members - start))
            ]
            for sock in group:
                if _read_exactly(sock, len(READY)) != READY:
                    raise ConnectionError("the broadcast server did not let a member in")
            socks += group
        speaker, listeners = socks[0], socks[1:]
        with selectors.DefaultSelector() as selector:
            for sock in listeners:
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ)
            heard = dict.fromkeys(listeners, 0)
            waiting = len(listeners)
            burst = b"".join(b"line %d\n" % k for k in range(messages))
            started = time.perf_counter()
            speaker.sendall(burst)
            stop_at = time.monotonic() + deadline
            while waiting:
                if time.monotonic() > stop_at:
                    raise TimeoutError(f"{kind}: the room did not hear everything in {deadline} s")
                for key, _ in selector.select(1.0):
                    count = heard[key.fileobj] + key.fileobj.recv(1 << 20).count(b"\n")
                    if heard[key.fileobj] < messages <= count:
                        waiting -= 1
                    heard[key.fileobj] = count
            seconds = time.perf_counter() - started
        return messages * len(listeners) / seconds
    finally:
        for sock in socks:
            sock.close()
        server.stop()


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        part = sock.recv(n - len(data))
        if not part:
            break
        data += part
    return data
