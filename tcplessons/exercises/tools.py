"""Building blocks for checks: real loopback sockets, bounded calls, awkward sockets.

Every check drives the learner's code with real sockets on 127.0.0.1 (port 0), and every
wait is bounded, so a wrong answer fails in seconds instead of hanging the notebook.

- :func:`loopback_pair` — two connected TCP sockets (client side, server side).
- :class:`LearnerCall` — learner code running in a thread of its own, its result kept.
- :func:`call_with_timeout` — call learner code in a thread; fail the check if it hangs.
- :class:`ShortRecvSocket` — a real socket whose ``recv`` returns at most a few bytes,
  as a busy network may: catches "one recv() is one message" deterministically.
- :class:`ShortSendSocket` — a real socket whose ``send`` writes only part of its data,
  as an operating system may: the only way to catch ``send()`` where ``sendall()`` is
  needed on a fast loopback.
- :func:`send_in_chunks` — write data in pieces from a background thread.
- :func:`show_bytes` — a short, deterministic description of some bytes.
- :func:`blocking_with_os_timeouts` — a blocking socket (as accept() gives a server)
  whose operating-system timeouts still bound every call.
- :func:`shut_down_and_close` — shut a socket down and close it, waking any thread blocked on it.
- :func:`exactly` — the learner's value is of the expected exact type and equal to it.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
import threading
from typing import Any, Callable, Iterator, Optional, Tuple

from .model import CheckFailed

__all__ = [
    "LearnerCall",
    "blocking_with_os_timeouts",
    "shut_down_and_close",
    "ShortRecvSocket",
    "ShortSendSocket",
    "call_with_timeout",
    "exactly",
    "loopback_pair",
    "recv_until_closed",
    "send_in_chunks",
    "show_bytes",
]

#: Seconds a single call of learner code may take before the check gives up on it.
CALL_TIMEOUT = 3.0


def show_bytes(data: bytes, limit: int = 40) -> str:
    """``b'hello'``, or ``b'0123…' (10000 bytes)`` for long data."""
    if len(data) <= limit:
        return repr(bytes(data))
    return f"{bytes(data[:limit])!r}… ({len(data)} bytes)"


@contextlib.contextmanager
def loopback_pair(timeout: float = CALL_TIMEOUT) -> Iterator[Tuple[socket.socket, socket.socket]]:
    """Yield ``(client, server)``: the two ends of one real TCP connection on 127.0.0.1.

    Both have ``timeout`` set, and both are closed afterwards.
    """
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname(), timeout=timeout)
        server, _ = listener.accept()
    server.settimeout(timeout)
    try:
        yield client, server
    finally:
        client.close()
        server.close()


def _adopt(cls, sock: socket.socket, timeout: Optional[float]):
    """Move ``sock``'s descriptor into a socket of class ``cls``."""
    new = cls(fileno=sock.detach())
    new.settimeout(timeout)
    return new


class ShortRecvSocket(socket.socket):
    """A real socket whose ``recv(n)`` returns at most ``limit`` bytes (never more than n).

    ``recv`` may always return fewer bytes than asked; code that assumes otherwise fails
    here every time, not only on a congested network.  ``MSG_WAITALL`` is honoured.
    """

    limit = 1

    @classmethod
    def adopt(cls, sock: socket.socket, limit: int = 1) -> "ShortRecvSocket":
        new = _adopt(cls, sock, sock.gettimeout())
        new.limit = limit
        return new

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if not flags & getattr(socket, "MSG_WAITALL", 0):
            bufsize = min(bufsize, self.limit)
        return super().recv(bufsize, flags)

    def recv_into(self, buffer, nbytes: int = 0, flags: int = 0) -> int:
        if not flags & getattr(socket, "MSG_WAITALL", 0):
            size = nbytes or memoryview(buffer).nbytes
            nbytes = min(size, self.limit)
        return super().recv_into(buffer, nbytes, flags)


class ShortSendSocket(socket.socket):
    """A real socket whose ``send(data)`` writes at most ``limit`` bytes and returns that.

    ``sendall`` still sends everything, as it must.
    """

    limit = 3

    @classmethod
    def adopt(cls, sock: socket.socket, limit: int = 3) -> "ShortSendSocket":
        new = _adopt(cls, sock, sock.gettimeout())
        new.limit = limit
        return new

    def send(self, data, flags: int = 0) -> int:
        return super().send(memoryview(data)[: self.limit], flags)


class LearnerCall:
    """``fn(*args)`` run in a daemon thread of its own, so a check can wait for it with a
    time limit (a call that never returns must not freeze the notebook).

    Create it, ``start()`` it, then ``join(timeout)`` and ``result()``; or use
    :func:`call_with_timeout` for all of that at once.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any):
        self._outcome: dict = {}

        def target() -> None:
            try:
                self._outcome["value"] = fn(*args)
            except BaseException as exc:  # re-raised in the checking thread by result()
                self._outcome["error"] = exc

        self.thread = threading.Thread(target=target, name="tcplessons check", daemon=True)

    def start(self) -> "LearnerCall":
        self.thread.start()
        return self

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; True if the call has returned (or raised)."""
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def result(self) -> Any:
        """What the call returned; re-raises what it raised."""
        if "error" in self._outcome:
            raise self._outcome["error"]
        return self._outcome.get("value")


def call_with_timeout(
    fn: Callable[..., Any], *args: Any, timeout: float = CALL_TIMEOUT, call: str = "", hint: str = ""
) -> Any:
    """Call ``fn(*args)`` in a daemon thread; return its result or re-raise its exception.

    If it has not returned after ``timeout`` seconds, raise :class:`CheckFailed` naming
    the call; the caller should then close the sockets it handed over, which usually
    unblocks the thread.
    """
    running = LearnerCall(fn, *args).start()
    if not running.join(timeout):
        name = call or f"{getattr(fn, '__name__', 'your function')}(…)"
        raise CheckFailed(
            f"{name} did not return within {timeout:g} s",
            hint=hint or "it is probably waiting in recv() or accept() for data that will never come",
        )
    return running.result()


def send_in_chunks(sock: socket.socket, data: bytes, size: int, *, hang_up: bool = False) -> threading.Thread:
    """Start a thread that writes ``data`` to ``sock`` in pieces of ``size`` bytes.

    With ``hang_up=True`` it then shuts down the write side (the reader sees ``b""``).
    Returns the thread; join it (with a timeout) when the check is done.  Errors such as
    the reader closing early are swallowed: the check judges what the reader returned.
    """

    def write() -> None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for start in range(0, len(data), size):
                sock.sendall(data[start : start + size])
            if hang_up:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    thread = threading.Thread(target=write, name="tcplessons sender", daemon=True)
    thread.start()
    return thread


def recv_until_closed(sock: socket.socket, limit: int = 64 * 1024 * 1024) -> bytes:
    """Read until the peer hangs up (or ``limit`` bytes); a timeout ends it early too."""
    chunks, total = [], 0
    while total < limit:
        try:
            data = sock.recv(65536)
        except (socket.timeout, OSError):
            break
        if not data:
            break
        chunks.append(data)
        total += len(data)
    return b"".join(chunks)


def blocking_with_os_timeouts(sock: socket.socket, seconds: float = 5.0) -> socket.socket:
    """Put ``sock`` in blocking mode, as a server's accepted socket is, so every correct
    solution works (``MSG_WAITALL`` waits only on a blocking socket); the kernel's own
    timeouts (SO_RCVTIMEO, SO_SNDTIMEO) still bound each call in case the learner's code
    waits for something that never comes."""
    sock.settimeout(None)
    if sys.platform == "win32":
        value = struct.pack("I", int(seconds * 1000))
    else:
        value = struct.pack("ll", int(seconds), 0)
    for option in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, value)
        except OSError:
            pass
    return sock


def shut_down_and_close(sock: socket.socket) -> None:
    """shutdown() wakes a thread blocked in recv() on this socket; close() alone does not."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def exactly(got: Any, expected: Any) -> bool:
    """True only if ``got`` has ``expected``'s exact type and equals it.  Compare with this,
    not ``==``: a ``bytes`` subclass whose ``==`` always says yes must not pass a check."""
    return type(got) is type(expected) and type(expected).__eq__(expected, got) is True
