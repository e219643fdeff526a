"""What a learner's code did with its sockets, seen from inside the process: every
``connect()`` call its thread made, with the address and the timeout it had.

The ``connect_first`` checks use it to judge how each attempt was made (which address
first, how long each attempt was allowed) from the calls themselves, never from how
long anything took: the verdict is the same on a fast and on a loaded computer.

- :func:`watching_connects` — record the ``connect()`` calls made while the block runs.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["ConnectCall", "watching_connects"]

_MISSING = object()
_lock = threading.Lock()


@dataclass(frozen=True)
class ConnectCall:
    """One ``sock.connect(address)``: the thread that made it, the address (host, port)
    and ``sock.gettimeout()`` at that moment (None: no timeout)."""

    thread: int
    address: tuple
    timeout: float | None


@contextlib.contextmanager
def watching_connects() -> Iterator[list[ConnectCall]]:
    """Yield a list that fills with every ``socket.socket.connect`` call made meanwhile
    (``socket.create_connection`` included: it calls ``connect``).  Nothing is changed
    about the calls themselves; filter by :attr:`ConnectCall.thread` to keep one thread's.
    """
    calls: list[ConnectCall] = []
    own = socket.socket.__dict__.get("connect", _MISSING)
    inner = socket.socket.connect

    def connect(sock, address):
        with contextlib.suppress(Exception):  # a bad address is connect()'s to report
            calls.append(ConnectCall(threading.get_ident(), tuple(address)[:2], sock.gettimeout()))
        return inner(sock, address)

    with _lock:
        socket.socket.connect = connect
    try:
        yield calls
    finally:
        with _lock:
            if own is _MISSING:
                del socket.socket.connect
            else:
                socket.socket.connect = own
