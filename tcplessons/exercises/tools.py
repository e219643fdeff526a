"""Building blocks for checks: real loopback sockets, bounded calls, awkward sockets.

Every check drives the learner's code with real sockets on 127.0.0.1 (port 0), and every
wait is bounded, so a wrong answer fails in seconds instead of hanging the notebook.
A check module imports what it needs from here and reads like a list of what the
exercise must do; the conventions it follows:

- the exercise object is ``<id>_exercise`` (``recv_all_exercise``), registered at the end;
- each check is a named function (``def _reads_a_short_message(fn)``) under
  ``@<id>_exercise.check("what it must do")``;
- every wait uses one of the timeouts below, never a number of its own;
- bytes are shown with :func:`show_bytes`; a fake socket is built with :func:`adopt`
  and a connection reset with :func:`reset`;
- learner code runs through :class:`LearnerCall` / :func:`call_with_timeout`.

What is here:

- :data:`CALL_TIMEOUT`, :data:`RETURN_TIMEOUT`, :data:`READ_TIMEOUT`,
  :data:`STALL_TIMEOUT`, :data:`PAUSE` — the only timeouts checks use.
- :func:`loopback_pair` — two connected TCP sockets (client side, server side).
- :class:`LearnerCall` / :func:`call_with_timeout` — learner code in a thread of its own.
- :func:`adopt` — move a real socket's connection into a socket class that changes one
  behaviour: :class:`ShortRecvSocket` (``recv`` returns a few bytes at a time),
  :class:`ShortSendSocket` (``send`` writes a few bytes at a time), and the checks' own
  (they live in :mod:`._check_sockets`).
- :class:`SocketWatch` — see the sockets learner code creates and binds, and make their
  ``send()`` write only a few bytes (for code that opens its own socket; it lives in
  :mod:`._socket_watch`).
- :func:`send_in_chunks`, :func:`recv_until_closed` — the check's side of a stream.
- :func:`reset` — drop a connection with a reset (RST), as a vanished caller does.
- :func:`show_bytes`, :func:`exact_type_problem` — what the report shows.
- :func:`blocking_with_os_timeouts`, :func:`shut_down_and_close`.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ._check_sockets import CheckSocket, ShortRecvSocket, ShortSendSocket, adopt
from ._socket_watch import SocketWatch
from .model import CheckFailed

__all__ = [
    "CALL_TIMEOUT",
    "PAUSE",
    "READ_TIMEOUT",
    "RETURN_TIMEOUT",
    "STALL_TIMEOUT",
    "CheckSocket",
    "LearnerCall",
    "ShortRecvSocket",
    "ShortSendSocket",
    "SocketWatch",
    "adopt",
    "blocking_with_os_timeouts",
    "call_with_timeout",
    "exact_type_problem",
    "loopback_pair",
    "recv_until_closed",
    "reset",
    "send_in_chunks",
    "show_bytes",
    "shut_down_and_close",
]

#: Seconds one call of learner code may take when everything it needs is there.  A right
#: answer takes milliseconds; this only ever fires on a real hang.
CALL_TIMEOUT = 3.0
#: Seconds a call may take that must return at once (the caller has already hung up, or
#: nothing is needed): what a loop that ignores ``b""`` costs before it fails.
RETURN_TIMEOUT = 1.0
#: Seconds the check waits for bytes the learner's code should already have sent.
READ_TIMEOUT = 2.0
#: Seconds learner code may go without progress (no byte read or written) on a large
#: payload before the check says it stopped.  Slow is fine; stopped is not.
STALL_TIMEOUT = 3.0
#: Seconds a sender pauses in the middle of a stream: longer than the idle timeouts
#: learners put on sockets (and longer still if the learner's own timeout is longer,
#: see :func:`pause_for`).  Only ``b""`` ends a stream; a pause never does.
PAUSE = 1.5
#: Learner timeouts up to this many seconds are waited out by a pause (see pause_for).
MAX_WAITED_OUT = 3.0


def show_bytes(data: bytes, limit: int = 40) -> str:
    """``b'hello'``, or ``b'0123…' (10000 bytes)`` for long data."""
    if len(data) <= limit:
        return repr(bytes(data))
    return f"{bytes(data[:limit])!r}… ({len(data)} bytes)"


def exact_type_problem(value: Any, expected: type) -> str | None:
    """None if ``type(value) is expected``; else words for what ``value`` is.

    Checks compare exact types (a subclass may redefine ``==`` to say yes to anything),
    then compare values with the expected type's own ``==``.
    """
    if type(value) is expected:
        return None
    if isinstance(value, expected):
        return f"a subclass of {expected.__name__} ({type(value).__name__}), not {expected.__name__} itself"
    return f"a {type(value).__name__}, not {expected.__name__}"


@contextlib.contextmanager
def loopback_pair(timeout: float = CALL_TIMEOUT) -> Iterator[tuple[socket.socket, socket.socket]]:
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


class LearnerCall:
    """``fn(*args)`` run in a daemon thread of its own, so a check can wait for it with a
    time limit (a call that never returns must not freeze the notebook).

    Create it, ``start()`` it, then ``join(timeout)`` and ``result()``; or use
    :func:`call_with_timeout` for all of that at once.  With ``watch``, the sockets the
    call creates are seen by that :class:`SocketWatch`.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, watch: SocketWatch | None = None):
        self._outcome: dict = {}

        def target() -> None:
            with watch.this_thread() if watch else contextlib.nullcontext():
                try:
                    self._outcome["value"] = fn(*args)
                except BaseException as exc:  # re-raised in the checking thread by result()
                    self._outcome["error"] = exc

        self.thread = threading.Thread(target=target, name="tcplessons check", daemon=True)

    def start(self) -> LearnerCall:
        self.thread.start()
        return self

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; True if the call has returned (or raised)."""
        self.thread.join(timeout)
        return not self.thread.is_alive()

    @property
    def done(self) -> bool:
        return not self.thread.is_alive()

    def result(self) -> Any:
        """What the call returned; re-raises what it raised."""
        if "error" in self._outcome:
            raise self._outcome["error"]
        return self._outcome.get("value")


def call_with_timeout(
    fn: Callable[..., Any],
    *args: Any,
    timeout: float = CALL_TIMEOUT,
    call: str = "",
    hint: str = "",
    watch: SocketWatch | None = None,
) -> Any:
    """Call ``fn(*args)`` in a daemon thread; return its result or re-raise its exception.

    If it has not returned after ``timeout`` seconds, raise :class:`CheckFailed` naming
    the call; the caller should then close the sockets it handed over, which usually
    unblocks the thread.
    """
    running = LearnerCall(fn, *args, watch=watch).start()
    if not running.join(timeout):
        name = call or f"{getattr(fn, '__name__', 'your function')}(…)"
        raise CheckFailed(
            f"{name} did not return within {timeout:g} s",
            hint=hint
            or "it is probably waiting in recv() or accept() for data that will never come",
        )
    return running.result()


def pause_for(*timeouts: float | None) -> float:
    """How long a mid-stream pause must last: :data:`PAUSE`, or a little longer than the
    idle timeout the learner's code put on its socket when that is a few seconds (a
    safety-net timeout of 5 s or more is not waited out: the checks would crawl)."""
    shorter = [t for t in timeouts if t and t < MAX_WAITED_OUT]
    return max(PAUSE, max(shorter, default=0.0) + 0.5)


def send_in_chunks(
    sock: socket.socket,
    data: bytes,
    size: int,
    *,
    hang_up: bool = False,
    pause_at: int | None = None,
    pause: Callable[[], float] = lambda: PAUSE,
    progress: list | None = None,
    reader: CheckSocket | None = None,
    already_sent: int = 0,
) -> threading.Thread:
    """Start a thread that writes ``data`` to ``sock`` in pieces of ``size`` bytes.

    With ``pause_at``, it stops after that many bytes, as a person typing or a busy
    network does: first until ``reader`` (the learner's :class:`CheckSocket`, if given)
    has read everything sent so far and asks for more, then for ``pause()`` seconds
    (asked when the pause starts; pass ``lambda: 0`` for no extra wait).
    ``already_sent``: bytes the check wrote on this line before (preloaded).  With
    ``hang_up=True`` it then shuts down the write side (the reader sees ``b""``).
    Returns the thread; join it (with a timeout) when the check is done.  Errors such as
    the reader closing early are swallowed: the check judges what the reader did.  With
    ``progress`` (a one-item list) the bytes sent so far are kept in it; while pausing,
    the thread's ``pausing`` attribute is True.
    """
    stop = threading.Event()
    pieces = [data[start : start + size] for start in range(0, len(data), size)]
    if pause_at is not None:  # split the piece the pause falls in
        pieces = []
        for start in range(0, len(data), size):
            piece = data[start : start + size]
            if start < pause_at < start + len(piece):
                pieces += [piece[: pause_at - start], None, piece[pause_at - start :]]
            else:
                pieces += [None, piece] if start == pause_at else [piece]

    def write() -> None:
        count = 0
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for piece in pieces:
                if piece is None:
                    thread.pausing = True
                    if reader is not None:
                        reader.wait_for_reader(already_sent + count, CALL_TIMEOUT)
                    stop.wait(pause())
                    thread.pausing = False
                    continue
                sock.sendall(piece)
                count += len(piece)
                if progress is not None:
                    progress[0] = count
            if hang_up:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    thread = threading.Thread(target=write, name="tcplessons sender", daemon=True)
    thread.pausing = False
    thread.start()
    return thread


def recv_until_closed(
    sock: socket.socket, limit: int = 64 * 1024 * 1024, progress: list | None = None
) -> bytes:
    """Read until the peer hangs up (or ``limit`` bytes); a timeout ends it early too.

    With ``progress`` (a one-item list), the number of bytes read so far is kept in it,
    so another thread can watch the reading go on."""
    chunks, total = [], 0
    while total < limit:
        try:
            data = sock.recv(65536)
        except (TimeoutError, OSError):
            break
        if not data:
            break
        chunks.append(data)
        total += len(data)
        if progress is not None:
            progress[0] = total
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
        value = struct.pack("ll", int(seconds), int((seconds - int(seconds)) * 1_000_000))
    for option in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, option, value)
    return sock


def reset(sock: socket.socket) -> None:
    """Close ``sock`` with a reset (RST) instead of a goodbye (FIN), as a caller whose
    program crashed or whose network vanished does: the other side's next ``recv()``
    raises ConnectionResetError (or returns b"") and its sends fail."""
    linger = struct.pack("hh" if sys.platform == "win32" else "ii", 1, 0)
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    sock.close()


def shut_down_and_close(sock: socket.socket) -> None:
    """shutdown() wakes a thread blocked in recv() on this socket (on Linux and macOS;
    on Windows the blocked call ends with the socket's own timeout); then close()."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
