"""Checks for lesson 02's exercises: ``recv_exactly(sock, n)`` and ``recv_all(sock)``.

Both read from a stream, where ``recv(n)`` returns *up to* n bytes and ``b""`` means the
caller hung up.  The checks hand the learner's function one end of a real TCP connection
on 127.0.0.1 and write to the other end:

- small messages are written first and waited for, then read through a
  :class:`~tcplessons.exercises.tools.ShortRecvSocket` whose ``recv`` returns only 1, 5
  or 4096 bytes at a time — the way a busy network would split them, but every time;
- large payloads (1 MB, 2 MB) stream in from a background thread in 4096-byte pieces;
- every message holds bytes that are not UTF-8, so decoding them is caught too.

One mistake (returning a bytearray, say) would fail almost every check the same way;
the first failure explains it and the others say "the same problem as above".

The large-payload checks (recv_exactly 1 MB, recv_all 2 MB) watch the learner's reading:
a reader that keeps making progress gets longer than usual (reading byte by byte is slow
but correct), one that cannot finish in time is told it reads too slowly, and one that
has read everything but does not return (recv_all: it ignores ``b""``) fails a second
later.
"""

from __future__ import annotations

import contextlib
import math
import socket
import threading
import time
from collections.abc import Iterator

from .model import CheckFailed, Exercise
from .registry import register
from .tools import (
    CALL_TIMEOUT,
    RETURN_TIMEOUT,
    STALL_TIMEOUT,
    CheckSocket,
    LearnerCall,
    ShortRecvSocket,
    adopt,
    call_with_timeout,
    exact_type_problem,
    loopback_pair,
    pause_for,
    recv_until_closed,
    send_in_chunks,
    show_bytes,
)

__all__ = ["recv_all_exercise", "recv_exactly_exercise"]

#: EOF_TIMEOUT is the course-wide RETURN_TIMEOUT: where everything was sent (and the
#: caller hung up) before the call, a correct answer takes milliseconds and a loop that
#: ignores b"" takes forever.
EOF_TIMEOUT = RETURN_TIMEOUT
#: The longest mid-stream pause a check makes (see tools.pause_for).
PAUSE_LIMIT = pause_for(3.0)
#: Seconds recv_all (2 MB) and recv_exactly (1 MB) may take for their large payloads
#: while they keep reading: recv(1) in a loop is correct, only slow (many seconds on a
#: busy machine), so this is generous; only code that gets slower and slower as it reads
#: (data += chunk copies everything read so far) is projected to miss it.
LARGE_LIMIT = 60.0
#: After the learner's thread has used this many seconds of processor time, the check
#: starts asking how much the whole payload will need (see _call_while_reading).
LARGE_JUDGE_AFTER = 1.0
#: How often the check looks at the progress of the learner's reading.
POLL = 0.02
#: recv_all's large payload: bigger than the operating system's socket buffers, so it
#: really streams in while the learner's code reads.
LARGE_ALL = 2 * 1024 * 1024

recv_exactly_exercise = Exercise(
    "recv_exactly",
    lesson="02-phone-call-stream",
    summary="Read exactly n bytes from a socket, however the sender split them; "
    "EOFError if the caller hangs up first.",
)
recv_all_exercise = Exercise(
    "recv_all",
    lesson="02-phone-call-stream",
    summary="Read everything the caller sends until it hangs up, as bytes.",
)

STREAM_HINT = (
    "recv(n) returns *up to* n bytes — TCP is a stream, not a list of messages; "
    "keep calling recv() until you have everything"
)
HANG_UP_HINT = (
    "the caller has hung up, so recv() returns b'' from now on: "
    "stop reading when it does and return what you have"
)
SLOW_HINT = (
    "read bigger pieces, e.g. sock.recv(4096) (one call per byte is slow), collect them "
    "in a list and join it once at the end with b''.join(pieces) (data += chunk copies "
    "everything read so far, every time)"
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


def _call_while_reading(
    fn, sock: _SteadySocket, size: int, *args, call: str, amount: str, all_read: CheckFailed
):
    """``fn(sock, *args)`` in a thread, bounded by how its reading goes, not by one timeout.

    ``sock`` is a :class:`_SteadySocket` on which ``size`` bytes (``amount`` in words)
    stream in.  Then:

    - everything read but no return within EOF_TIMEOUT: fail with ``all_read`` (for
      recv_all, code that ignores ``b""``);
    - nothing read for STALL_TIMEOUT: it stopped reading — fail;
    - it gets slower and slower as it reads (``data += chunk`` copies everything read
      so far): judged from the *processor time* its thread has used, not the clock, so
      a busy machine changes nothing.  The work so far, and how it grew with the bytes
      read, give the work the whole payload needs (``work ∝ bytes ** k``); over
      LARGE_LIMIT seconds of processor time fails with a hint on reading bigger pieces.
      Slow but steady code, such as recv(1) into a list, passes however busy the
      machine is.

    The verdicts' texts hold no measured numbers, so a report reads the same every run.
    """
    running = LearnerCall(fn, sock, *args)
    start = time.monotonic()
    running.start()
    work = _thread_work(running.thread)
    samples: list = []  # (work done, bytes read), oldest first
    last_count, last_progress, all_read_at = 0, start, None
    while True:
        if running.join(POLL):
            break
        now = time.monotonic()
        count = sock.delivered
        if count > last_count:
            last_count, last_progress = count, now
        if count >= size:
            all_read_at = all_read_at or now
            if now - all_read_at > EOF_TIMEOUT:
                raise all_read
            continue
        if now - last_progress > STALL_TIMEOUT:
            raise CheckFailed(
                f"{call} stopped reading: no recv() for {STALL_TIMEOUT:g} s before all "
                f"{amount} had arrived",
                hint=f"keep calling recv() until you have all {amount}",
            )
        done = work()
        samples.append((done, count))
        if done >= LARGE_JUDGE_AFTER and _projected_work(samples, size) > LARGE_LIMIT:
            raise CheckFailed(
                f"{call} reads too slowly: it gets slower with every byte it has read",
                hint=SLOW_HINT,
            )
    try:
        return running.result()
    except UnicodeDecodeError:
        raise CheckFailed(
            f"{call} raised UnicodeDecodeError",
            got="UnicodeDecodeError: the bytes are not UTF-8 text (and a character may be split "
            "between two recv() calls)",
            hint=BYTES_HINT,
            cause="decodes",
        ) from None


def _thread_work(thread: threading.Thread):
    """A function giving the processor time ``thread`` has used so far (where the system
    can tell; else the time since now, which a busy machine stretches)."""
    try:
        clock = time.pthread_getcpuclockid(thread.ident)
        time.clock_gettime(clock)
        return lambda: time.clock_gettime(clock)
    except (AttributeError, OSError, TypeError):
        started = time.monotonic()
        return lambda: time.monotonic() - started


def _projected_work(samples: list, size: int) -> float:
    """The work reading ``size`` bytes will take, from how the work grew so far."""
    done, count = samples[-1]
    half = next(((w, c) for w, c in reversed(samples) if w <= done / 2), None)
    if half is None or count <= 0:
        return 0.0
    w, c = half
    if c <= 0 or count <= c or w <= 0:
        return done * size / max(count, 1)
    k = math.log(done / w) / math.log(count / c)
    k = min(max(k, 1.0), 3.0)  # steady is 1, copying everything so far is about 2
    return done * (size / count) ** k


# --- recv_exactly ------------------------------------------------------------------------


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
        raise CheckFailed(
            f"{call} raised UnicodeDecodeError",
            got="UnicodeDecodeError: the bytes are not UTF-8 text (and a character may be split "
            "between two recv() calls)",
            hint=BYTES_HINT,
            cause="decodes",
        ) from None
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


def _exactly_in_pieces(fn, size: int, piece: int) -> None:
    data = message(size)
    call = f"recv_exactly(sock, {size})"
    with _line(limit=piece) as (caller, sock):
        _preload(caller, sock, data[: size // 2], hang_up=False)
        sender = _send_rest_when_read(caller, sock, data[size // 2 :], hang_up=False)
        got = _call(fn, sock, size, call=call)
        _judge(sock, fn, got, data, call)
    _join(sender)


@recv_exactly_exercise.check("reads a 10-byte message sent in one piece")
def _exactly_one_piece(fn) -> None:
    data = b"\x00hello\xff\xfe!\n"
    with _line() as (caller, sock):
        _preload(caller, sock, data, hang_up=False)
        got = _call(fn, sock, len(data), call="recv_exactly(sock, 10)")
        _expect_bytes(fn, got, data, "recv_exactly(sock, 10)")


@recv_exactly_exercise.check("reads a message that arrives 1 byte at a time")
def _exactly_ones(fn) -> None:
    _exactly_in_pieces(fn, 100, 1)


@recv_exactly_exercise.check("reads a message that arrives 5 bytes at a time")
def _exactly_fives(fn) -> None:
    _exactly_in_pieces(fn, 1000, 5)


@recv_exactly_exercise.check("waits through a pause in the middle of the message")
def _exactly_through_a_pause(fn) -> None:
    data = message(200)
    call = "recv_exactly(sock, 200)"
    with _line() as (caller, sock):
        _preload(caller, sock, data[:100], hang_up=False)
        # As long as the learner's own socket timeout and more: a pause is not the end.
        sender = _send_rest_when_read(
            caller, sock, data[100:], hang_up=False, pause=lambda: pause_for(sock.gettimeout())
        )
        got = _call(fn, sock, 200, call=call, timeout=CALL_TIMEOUT + PAUSE_LIMIT)
        _judge(sock, fn, got, data, call, hint=PAUSE_HINT)
    _join(sender)


@recv_exactly_exercise.check("reads 1 MB sent in pieces of 4096 bytes")
def _exactly_large(fn) -> None:
    size = 1024 * 1024
    data = message(size)
    with _line(limit=4096, steady=True) as (caller, sock):
        sender = send_in_chunks(
            caller, data, 4096, pause_at=size // 2, pause=lambda: 0.0, reader=sock
        )
        got = _call_while_reading(
            fn,
            sock,
            size,
            size,
            call=f"recv_exactly(sock, {size})",
            amount="1 MB",
            all_read=CheckFailed(
                f"recv_exactly(sock, {size}) read all {size} bytes but did not return",
                hint="once you have n bytes, stop calling recv() and return them: "
                "the next bytes may be a long time coming",
            ),
        )
        _judge(sock, fn, got, data, f"recv_exactly(sock, {size})")
    _join(sender)


@recv_exactly_exercise.check("leaves the bytes after the n-th in the socket")
def _exactly_no_overread(fn) -> None:
    head, rest = b"HEAD", b"body\x00\xffand the rest"
    # Once on a plain socket (everything could be read at once), once on a line that
    # delivers 3 bytes at a time (so asking recv() for n again would overshoot n).
    for limit in (None, 3):
        with _line(limit) as (caller, sock):
            _preload(caller, sock, head + rest, hang_up=True)
            got = _call(fn, sock, 4, call="recv_exactly(sock, 4)")
            _expect_bytes(fn, got, head, "recv_exactly(sock, 4)")
            sock.settimeout(CALL_TIMEOUT)
            after = recv_until_closed(sock)
            if after != rest:
                raise CheckFailed(
                    "recv_exactly(sock, 4) read past the 4th byte: the bytes after it were gone",
                    sent=show_bytes(head + rest),
                    got=f"left in the socket afterwards: {show_bytes(after)}",
                    expected=f"left in the socket afterwards: {show_bytes(rest)}",
                    hint="ask recv() for at most n - len(what you have) bytes: what follows "
                    "belongs to the next message (a buffered sock.makefile('rb') reads ahead "
                    "too: use buffering=0)",
                )


@recv_exactly_exercise.check("reads two messages in a row from the same stream")
def _exactly_twice(fn) -> None:
    first, second = message(300), b"second message"
    with _line(limit=5) as (caller, sock):
        _preload(caller, sock, first + second, hang_up=False)
        got = _call(fn, sock, len(first), call="recv_exactly(sock, 300)")
        _expect_bytes(fn, got, first, "recv_exactly(sock, 300)")
        got = _call(fn, sock, len(second), call="recv_exactly(sock, 14)")
        _expect_bytes(fn, got, second, "recv_exactly(sock, 14) (the second call)")


@recv_exactly_exercise.check("returns b'' for n = 0 without waiting")
def _exactly_zero(fn) -> None:
    with _line() as (caller, sock):
        got = _call(
            fn,
            sock,
            0,
            timeout=EOF_TIMEOUT,
            call="recv_exactly(sock, 0)",
            hint="nothing is needed for n = 0: return b'' before calling recv()",
        )
        _expect_bytes(fn, got, b"", "recv_exactly(sock, 0)")


def _exactly_eof(fn, sent: bytes, n: int) -> None:
    call = f"recv_exactly(sock, {n})"
    with _line(limit=5) as (caller, sock):
        _preload(caller, sock, sent, hang_up=True)
        try:
            got = _call(
                fn,
                sock,
                n,
                timeout=EOF_TIMEOUT,
                call=call,
                hint="recv() returns b'' forever once the caller has hung up: "
                "when it does, raise EOFError instead of calling recv() again",
            )
        except EOFError:
            return
        except ConnectionError as exc:
            raise CheckFailed(
                f"{call} raised {type(exc).__name__} instead of EOFError when the caller hung up",
                sent=f"{show_bytes(sent)}, then the caller hung up",
                got=type(exc).__name__,
                expected="EOFError",
                hint="the contract asks for EOFError: when recv() returns b'' before you have n "
                "bytes, raise EOFError (a ConnectionError means a broken line, not a hang-up)",
                cause="ConnectionError",
            ) from None
        except CheckFailed as failed:
            failed.sent = f"{show_bytes(sent)}, then the caller hung up"
            raise
        raise CheckFailed(
            f"{call} returned although the caller hung up after {len(sent)} bytes",
            sent=f"{show_bytes(sent)}, then the caller hung up",
            got=f"returned {show_bytes(got) if isinstance(got, bytes) else type(got).__name__}",
            expected="EOFError",
            hint="when recv() returns b'' the caller has hung up and no more bytes will "
            "come: raise EOFError rather than return short data",
        )


@recv_exactly_exercise.check("raises EOFError if the caller hangs up after part of the message")
def _exactly_eof_part(fn) -> None:
    _exactly_eof(fn, b"only\xff7", 10)


@recv_exactly_exercise.check("raises EOFError if the caller hangs up without sending anything")
def _exactly_eof_nothing(fn) -> None:
    _exactly_eof(fn, b"", 4)


# --- recv_all ------------------------------------------------------------------------------


def _all_in_pieces(fn, size: int, piece: int) -> None:
    data = message(size)
    with _line(limit=piece) as (caller, sock):
        _preload(caller, sock, data[: size // 2], hang_up=False)
        sender = _send_rest_when_read(caller, sock, data[size // 2 :], hang_up=True)
        got = _call(
            fn, sock, call="recv_all(sock)", timeout=EOF_TIMEOUT, hint=HANG_UP_HINT, sender=sender
        )
        _judge(sock, fn, got, data, "recv_all(sock)", hint=STREAM_HINT + " — until it returns b''")
    _join(sender)


@recv_all_exercise.check("returns b'' when the caller hangs up at once")
def _all_nothing(fn) -> None:
    with _line() as (caller, sock):
        _preload(caller, sock, b"", hang_up=True)
        got = _call(fn, sock, timeout=EOF_TIMEOUT, call="recv_all(sock)", hint=HANG_UP_HINT)
        _expect_bytes(fn, got, b"", "recv_all(sock)")


@recv_all_exercise.check("reads a short message, then sees the hang-up")
def _all_short(fn) -> None:
    data = b"\x00hello\xff\xfe!\n"
    with _line() as (caller, sock):
        _preload(caller, sock, data, hang_up=True)
        got = _call(fn, sock, timeout=EOF_TIMEOUT, call="recv_all(sock)", hint=HANG_UP_HINT)
        _expect_bytes(fn, got, data, "recv_all(sock)")


@recv_all_exercise.check("reads everything when it arrives 1 byte at a time")
def _all_ones(fn) -> None:
    _all_in_pieces(fn, 100, 1)


@recv_all_exercise.check("reads everything when it arrives 5 bytes at a time")
def _all_fives(fn) -> None:
    _all_in_pieces(fn, 1000, 5)


@recv_all_exercise.check("waits through a pause before the caller hangs up")
def _all_through_a_pause(fn) -> None:
    data = message(200)
    with _line() as (caller, sock):
        _preload(caller, sock, data[:100], hang_up=False)
        sender = _send_rest_when_read(
            caller, sock, data[100:], hang_up=True, pause=lambda: pause_for(sock.gettimeout())
        )
        got = _call(
            fn, sock, call="recv_all(sock)", timeout=EOF_TIMEOUT, hint=HANG_UP_HINT, sender=sender
        )
        _judge(sock, fn, got, data, "recv_all(sock)", hint=PAUSE_HINT)
    _join(sender)


@recv_all_exercise.check("reads 2 MB sent in pieces of 4096 bytes")
def _all_large(fn) -> None:
    size = LARGE_ALL
    data = message(size)
    with _line(limit=4096, steady=True) as (caller, sock):
        sender = send_in_chunks(
            caller, data, 4096, hang_up=True, pause_at=size // 2, pause=lambda: 0.0, reader=sock
        )
        got = _call_while_reading(
            fn,
            sock,
            size,
            call="recv_all(sock)",
            amount="2 MB",
            all_read=CheckFailed(
                "recv_all(sock) read all 2 MB, and the caller hung up, but it did not return",
                hint=HANG_UP_HINT,
            ),
        )
        _judge(sock, fn, got, data, "recv_all(sock)", hint=STREAM_HINT + " — until it returns b''")
    _join(sender)


register(recv_exactly_exercise)
register(recv_all_exercise)
