"""What recv_exactly's and recv_all's checks share: the lines, the data, the judging.

:func:`_line` gives a loopback connection whose reading end the learner's function gets
(a :class:`~tcplessons.exercises.tools.ShortRecvSocket` or a :class:`_SteadySocket` to
split the bytes the same way every run); :func:`_preload` and
:func:`_send_rest_when_read` write to it; :func:`_call` runs the learner's function and
names the concept behind what it raised; :func:`_judge` and :func:`_expect_bytes` compare
what it returned with :func:`message`'s bytes.  The checks themselves are in
:mod:`tcplessons.exercises.stream`; the judging of large payloads by their progress in
:mod:`tcplessons.exercises._large_reads`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

from .model import CheckFailed
from .tools import (
    CALL_TIMEOUT,
    RETURN_TIMEOUT,
    CheckSocket,
    LearnerCall,
    ShortRecvSocket,
    adopt,
    call_with_timeout,
    exact_type_problem,
    loopback_pair,
    pause_for,
    send_in_chunks,
    show_bytes,
)

#: EOF_TIMEOUT is the course-wide RETURN_TIMEOUT: where everything was sent (and the
#: caller hung up) before the call, a correct answer takes milliseconds and a loop that
#: ignores b"" takes forever.
EOF_TIMEOUT = RETURN_TIMEOUT
#: The longest mid-stream pause a check makes (see tools.pause_for).
PAUSE_LIMIT = pause_for(3.0)
#: How often the check looks at the progress of the learner's reading.
POLL = 0.02

STREAM_HINT = (
    "recv(n) returns *up to* n bytes — TCP is a stream, not a list of messages; "
    "keep calling recv() until you have everything"
)
HANG_UP_HINT = (
    "the caller has hung up, so recv() returns b'' from now on: "
    "stop reading when it does and return what you have"
)
PAUSE_HINT = (
    "a pause is not a hang-up: only recv() returning b'' means the caller has finished; "
    "do not stop on a timeout (socket.timeout) or on BlockingIOError, keep waiting in recv()"
)
BYTES_HINT = (
    "return the bytes exactly as they arrived; decode later, once you have a whole "
    "message (a character can be split between two recv() calls)"
)


def message(size: int) -> bytes:
    """``size`` deterministic bytes, not valid UTF-8 from the first byte on (every value
    0x80–0xff, then 0x00–0x7f, repeating)."""
    pattern = bytes(range(128, 256)) + bytes(range(128))
    return (pattern * (size // 256 + 1))[:size]


def describe(data: bytes) -> str:
    """What a learner can compare at a glance: short data as it is, :func:`message`'s
    data in words."""
    if len(data) > 16 and data == message(len(data)):
        return f"{len(data)} bytes: b'\\x80\\x81\\x82…', every byte value in turn, repeating"
    return show_bytes(data)


def _wrong_type(got, expected: bytes, call: str) -> CheckFailed | None:
    """The failure for a result that is not exactly ``bytes``, or None if it is."""
    problem = exact_type_problem(got, bytes)
    if problem is None:
        return None
    if isinstance(got, bytes):  # a subclass: its == may say yes to anything
        return CheckFailed(
            f"{call} returned {problem}",
            expected=describe(expected),
            hint="return a plain bytes object: b''.join(pieces), or bytes(data)",
        )
    if isinstance(got, str):
        return CheckFailed(
            f"{call} returned a str, not bytes",
            got=f"a str of {len(got)} characters",
            expected=describe(expected),
            hint=BYTES_HINT,
        )
    if isinstance(got, list):
        return CheckFailed(
            f"{call} returned a list, not bytes",
            got="a list",
            expected=describe(expected),
            hint="join the pieces into one bytes object: b''.join(chunks)",
        )
    if isinstance(got, (bytearray, memoryview)):
        return CheckFailed(
            f"{call} returned a {type(got).__name__}, not bytes",
            expected=describe(expected),
            hint="convert it before returning: return bytes(buf)",
        )
    return CheckFailed(
        f"{call} returned {type(got).__name__}, not bytes",
        expected=describe(expected),
        hint="return the bytes you read",
    )


def _expect_bytes(fn, got, expected: bytes, call: str, *, hint: str = STREAM_HINT) -> None:
    """Fail with a helpful message unless ``got == expected`` and is ``bytes``.

    A wrong type is explained in full once per run; later checks call it the same
    problem.
    """
    wrong_type = _wrong_type(got, expected, call)
    if wrong_type is not None:
        wrong_type.cause = f"type {type(got).__name__}"  # explained in full once per report
        raise wrong_type
    if got == expected:
        return
    if len(got) < len(expected) and expected.startswith(got):
        raise CheckFailed(
            f"{call} returned only part of the data: {len(got)} of {len(expected)} bytes",
            got=show_bytes(got),
            expected=describe(expected),
            hint=hint,
        )
    if len(got) > len(expected) and got.startswith(expected):
        raise CheckFailed(
            f"{call} returned {len(got)} bytes, more than the {len(expected)} it should",
            got=show_bytes(got),
            expected=describe(expected),
            hint="ask recv() for at most n - len(what you have) bytes, "
            "so you never read into the next message",
        )
    raise CheckFailed(
        f"{call} returned the wrong bytes",
        got=show_bytes(got),
        expected=describe(expected),
        hint="return the bytes in the order they arrived, without adding or dropping any",
    )


class _SteadySocket(ShortRecvSocket):
    """A blocking socket whose ``recv(n)`` returns exactly ``min(n, limit)`` bytes (fewer
    only at the end of the stream), however the sender's writes were timed.

    Large payloads stream in from a thread while the learner reads them; with this
    socket what each of the learner's recv() calls returns never depends on who was
    faster, so the check's verdict and report are the same on every run.

    ``delivered`` counts the bytes handed to the learner so far: the check watches it
    to tell slow-but-reading code from code that stopped.
    """

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if not flags & socket.MSG_WAITALL:  # a learner's own MSG_WAITALL goes through as is
            bufsize, flags = min(bufsize, self.limit), flags | socket.MSG_WAITALL
        return CheckSocket.recv(self, bufsize, flags)

    def recv_into(self, buffer, nbytes: int = 0, flags: int = 0) -> int:
        if not flags & socket.MSG_WAITALL:
            nbytes = min(nbytes or memoryview(buffer).nbytes, self.limit)
            flags |= socket.MSG_WAITALL
        return CheckSocket.recv_into(self, buffer, nbytes, flags)


@contextlib.contextmanager
def _line(
    limit: int | None = None, *, steady: bool = False
) -> Iterator[tuple[socket.socket, socket.socket]]:
    """Yield ``(caller, sock)``: the check writes to ``caller``, the learner reads ``sock``.

    With ``limit``, ``sock`` is a :class:`ShortRecvSocket` returning at most ``limit``
    bytes per ``recv`` (with ``steady``, a :class:`_SteadySocket`).  ``sock`` is a blocking socket, like one fresh from ``accept()``
    (with a timeout Python makes a socket non-blocking underneath, and then
    ``MSG_WAITALL`` may return early).  The learner's call is bounded by
    ``call_with_timeout`` instead; afterwards both ends are shut down, which wakes a
    thread still blocked in ``recv()``, and closed.
    """
    with loopback_pair(CALL_TIMEOUT) as (caller, sock):
        caller.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if limit is not None:
            sock = (_SteadySocket if steady else ShortRecvSocket).adopt(sock, limit)
        else:
            sock = adopt(CheckSocket, sock)
        sock.settimeout(None)
        try:
            yield caller, sock
        finally:
            sock.starved.set()  # a sender still waiting for the reader gives up now
            for end in (caller, sock):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
            sock.close()


def _preload(caller: socket.socket, sock: socket.socket, data: bytes, *, hang_up: bool) -> None:
    """Write ``data`` and wait until all of it sits in ``sock``'s receive buffer.

    Then what the learner's recv() returns depends only on its arguments (and on the
    ShortRecvSocket limit), never on thread timing: the check reports the same thing
    every time.
    """
    caller.sendall(data)
    sock.preloaded = getattr(sock, "preloaded", 0) + len(data)
    if hang_up:
        caller.shutdown(socket.SHUT_WR)
    if not data:
        return
    deadline = time.monotonic() + CALL_TIMEOUT
    sock.settimeout(CALL_TIMEOUT)
    try:
        # MSG_PEEK leaves the bytes where they are for the learner to read.  Bounded:
        # on loopback everything sendall() wrote arrives within microseconds.
        # socket.socket.recv: a ShortRecvSocket would cut the peek short.
        while len(socket.socket.recv(sock, len(data), socket.MSG_PEEK)) < len(data):
            if time.monotonic() > deadline:
                raise CheckFailed("the check's own data did not arrive (the network is too busy)")
            threading.Event().wait(0.001)  # let the sender's bytes arrive
    finally:
        sock.settimeout(None)


def _join(thread: threading.Thread) -> None:
    thread.join(CALL_TIMEOUT)


def _decoding_failure(call: str) -> CheckFailed:
    """The failure for a reader that decoded the bytes it read (UnicodeDecodeError): what
    :func:`_call` and :func:`~tcplessons.exercises._large_reads._call_while_reading` raise."""
    return CheckFailed(
        f"{call} raised UnicodeDecodeError",
        got="UnicodeDecodeError: the bytes are not UTF-8 text (and a character may be split "
        "between two recv() calls)",
        hint=BYTES_HINT,
        cause="decodes",
    )


def _call(fn, *args, call: str, timeout: float = CALL_TIMEOUT, hint: str = "", sender=None):
    """``fn(*args)`` bounded by ``timeout`` (counted from when ``sender`` has sent
    everything, if given); what it raises becomes a failure that names the concept
    (decoding bytes, giving up when nothing has arrived for a moment)."""
    try:
        if sender is None:
            return call_with_timeout(fn, *args, timeout=timeout, call=call, hint=hint)
        running = LearnerCall(fn, *args).start()
        deadline = time.monotonic() + CALL_TIMEOUT + PAUSE_LIMIT
        while sender.is_alive() and not running.done and time.monotonic() < deadline:
            running.join(POLL)
        if not running.join(timeout):
            raise CheckFailed(f"{call} did not return within {timeout:g} s", hint=hint)
        return running.result()
    except UnicodeDecodeError:
        raise _decoding_failure(call) from None
    except (TimeoutError, BlockingIOError) as exc:
        raise CheckFailed(
            f"{call} raised {type(exc).__name__} when nothing had arrived for a moment",
            hint=PAUSE_HINT,
            cause="pause",
        ) from None


def _judge(sock: CheckSocket, fn, got, expected: bytes, call: str, hint: str = STREAM_HINT) -> None:
    """:func:`_expect_bytes`, after telling a reader that stopped at a pause so."""
    if got != expected and getattr(sock, "gave_up", False) and isinstance(got, (bytes, bytearray)):
        raise CheckFailed(
            f"{call} stopped when nothing had arrived for a moment",
            sent=describe(expected) + ", the second half after a moment's pause",
            got="the first part only",
            expected=describe(expected),
            hint=PAUSE_HINT,
            cause="pause",
        )
    _expect_bytes(fn, got, expected, call, hint=hint)


def _send_rest_when_read(
    caller: socket.socket, sock: CheckSocket, rest: bytes, *, hang_up: bool, pause=lambda: 0.0
):
    """Send ``rest`` once the learner's code has read what is there and asks for more
    (after ``pause()`` seconds more): the data is never all queued before it reads."""
    return send_in_chunks(
        caller,
        rest,
        max(len(rest), 1),
        hang_up=hang_up,
        pause_at=0,
        pause=pause,
        reader=sock,
        already_sent=sock.preloaded,
    )
