"""The state of a TCP connection, read from the operating system (with psutil).

TCP keeps a small state for every connection: ``LISTEN`` for a doorbell, ``ESTABLISHED``
while a call is on, ``FIN_WAIT2`` / ``CLOSE_WAIT`` once one side has hung up, and
``TIME_WAIT`` for a while after a call has ended.  The operating system lists them (the
``ss`` and ``netstat`` commands show the same list); psutil reads it on Linux, macOS
and Windows alike.

- :func:`tcp_state` — the state of one socket's connection, as the system lists it.
- :func:`wait_for_state` — wait (with a timeout) until a socket's connection reaches a
  state; for the steps that happen a moment after the call that caused them.
- :func:`reset_close` — close a socket with a reset (RST) instead of a hang-up (FIN).

Readings are the system's own names, with one rule that makes them the same on every
system: a connection the system no longer lists reads ``CLOSED`` (TCP's name for "no
connection").  A socket this program has already closed can be found only where the
system lists every program's connections (Linux and Windows; macOS only for an
administrator); elsewhere it reads ``UNKNOWN`` (and :func:`wait_for_state` returns
that at once instead of waiting for a reading that cannot come).  Lesson 09 reads every
socket before it closes it, so its readings are the same everywhere.
"""

from __future__ import annotations

import socket
import struct
import sys
import time
import weakref

__all__ = ["reset_close", "tcp_state", "wait_for_state"]

#: Names for "not listed": psutil's for a socket with no state, and TCP's own.
_NO_CONNECTION = {"NONE", "CLOSE", "CLOSED"}
UNKNOWN = "UNKNOWN"

#: The two addresses of every socket read so far, so a closed one can still be read.
_ends: weakref.WeakKeyDictionary[socket.socket, tuple[tuple, tuple | None]] = (
    weakref.WeakKeyDictionary()
)


def _ends_of(sock: socket.socket) -> tuple[tuple, tuple | None]:
    """(own address, other end's address or None) of ``sock``, remembered for later."""
    if sock.fileno() != -1:
        local = sock.getsockname()
        try:
            remote = sock.getpeername()
        except OSError:  # not connected: a listener, or the call already ended
            remote = _ends.get(sock, (None, None))[1]
        _ends[sock] = (local, remote)
    if sock not in _ends:
        raise ValueError("tcp_state() needs a socket that was open when first read")
    return _ends[sock]


def _listening(sock: socket.socket) -> bool:
    """Whether ``sock`` is a listener (assumed, where the system cannot say)."""
    option = getattr(socket, "SO_ACCEPTCONN", None)
    if option is None:
        return True
    try:
        return bool(sock.getsockopt(socket.SOL_SOCKET, option))
    except OSError:
        return True


def _same(a, b) -> bool:
    """Whether psutil's address ``a`` is the socket address ``b`` (host and port)."""
    if not a or not b:
        return not a and not b
    return (a[0], a[1]) == (b[0], b[1])


def _find(connections, local, remote) -> str | None:
    for conn in connections:
        if _same(conn.laddr, local) and _same(conn.raddr, remote):
            return conn.status
    return None


def tcp_state(sock: socket.socket) -> str:
    """The state the operating system lists for ``sock``'s connection, e.g. ``"LISTEN"``.

    ``"CLOSED"`` if the system no longer lists it.  Read a socket once while it is open;
    after ``close()`` it can still be read (see the module's docstring).
    """
    import psutil  # imported here: only lesson 09 needs it

    local, remote = _ends_of(sock)
    if remote is None and sock.fileno() != -1 and not _listening(sock):
        return "CLOSED"  # neither a doorbell nor on a call (never connected, or reset)
    # This program's own sockets first: quick, and allowed on every system.
    status = _find(psutil.Process().net_connections(kind="tcp"), local, remote)
    if status is None:
        # A connection whose socket is closed (or handed to the system, as a TIME_WAIT
        # record is on Linux) belongs to no program: only the full list has it.
        try:
            status = _find(psutil.net_connections(kind="tcp"), local, remote)
        except psutil.AccessDenied:
            return "CLOSED" if sock.fileno() != -1 else UNKNOWN
    if status is None or status in _NO_CONNECTION:
        return "CLOSED"
    return status


def wait_for_state(sock: socket.socket, state: str, timeout: float = 5.0) -> str:
    """Read ``sock``'s state until it is ``state`` or ``timeout`` seconds pass.

    Returns the last reading: ``state``, or what it was when the time ran out.  Some
    steps happen a moment after the call that causes them (the other side's answer has
    to arrive), so a lesson waits for them rather than reading once.
    """
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        reading = tcp_state(sock)
        if reading in (state, UNKNOWN) or time.monotonic() >= deadline:
            return reading  # UNKNOWN: this system will not say, so waiting cannot help
        time.sleep(pause)  # polling with a deadline: the state changes in the kernel
        pause = min(pause * 2, 0.1)


def reset_close(sock: socket.socket) -> None:
    """Close ``sock`` with a reset (RST): the call is cut, not hung up politely (FIN).

    ``SO_LINGER`` switched on with a time of zero tells ``close()`` to throw away
    anything unsent and send a reset; the other side's next ``recv()`` raises
    ``ConnectionResetError``, and this side keeps no ``TIME_WAIT`` record.
    """
    layout = "HH" if sys.platform == "win32" else "ii"  # Windows' struct linger is two shorts
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack(layout, 1, 0))
    sock.close()
