"""Waiting for sockets the same way on Linux, macOS and Windows.

The course's threads never rely on one thread's ``shutdown()`` or ``close()`` waking
another thread blocked in ``recv()``, ``send()`` or ``accept()``: that works on Linux,
not on Windows (and ``shutdown()`` of a listening socket fails on macOS).  Instead,
a thread that is about to block first waits until its socket is ready *or* a wake-up
socket is, with :func:`wait_until_ready`; whoever wants it to stop writes one byte to
the wake-up socket.  ``select()`` with only wake-up sockets works everywhere; a sleep
is :func:`pause` (``select()`` with no sockets at all is an error on Windows).
"""

from __future__ import annotations

import errno
import select
import socket
import threading
from collections.abc import Sequence

__all__: list[str] = []

#: ``send(data, DONTWAIT)`` returns what fits at once instead of waiting for room; 0
#: where the flag does not exist (Windows, which takes a whole send whenever it has room).
DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)

_READ = getattr(select, "POLLIN", 0) | getattr(select, "POLLPRI", 0)
_WRITE = getattr(select, "POLLOUT", 0)
_DONE = (
    getattr(select, "POLLERR", 0) | getattr(select, "POLLHUP", 0) | getattr(select, "POLLNVAL", 0)
)


def wait_until_ready(
    readers: Sequence[socket.socket], writers: Sequence[socket.socket], timeout: float | None
) -> list | None:
    """Wait until one of ``readers`` can be read or one of ``writers`` written.

    Returns the ready sockets (a hang-up or an error counts as ready: the next call on
    the socket reports it), or None once ``timeout`` seconds passed (None: no limit).
    Uses poll() where it exists (no limit on descriptor numbers), else select().
    """
    for sock in (*readers, *writers):
        if sock.fileno() == -1:
            raise OSError(errno.EBADF, "Bad file descriptor")
    if hasattr(select, "poll"):
        poller = select.poll()
        by_fd = {}
        for sock in readers:
            poller.register(sock, _READ)
            by_fd[sock.fileno()] = sock
        for sock in writers:
            fd = sock.fileno()
            poller.modify(sock, _READ | _WRITE) if fd in by_fd else poller.register(sock, _WRITE)
            by_fd[fd] = sock
        ms = None if timeout is None else max(0, int(timeout * 1000 + 0.999))
        events = poller.poll(ms)
        ready = [by_fd[fd] for fd, mask in events if mask & (_READ | _WRITE | _DONE)]
        return ready or None
    readable, writable, broken = select.select(
        readers, writers, list({*readers, *writers}), timeout
    )
    ready = [*readable, *writable, *broken]
    return ready or None


def pause(seconds: float) -> None:
    """Sleep ``seconds`` without select() (``select([], [], [], t)`` fails on Windows)."""
    threading.Event().wait(seconds)
