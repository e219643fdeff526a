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

The machinery the checks share is in :mod:`tcplessons.exercises._stream_checking` (lines,
data, judging) and :mod:`tcplessons.exercises._large_reads` (the large payloads).
"""

from __future__ import annotations

from ._large_reads import _call_while_reading
from ._stream_checking import (
    EOF_TIMEOUT,
    HANG_UP_HINT,
    PAUSE_HINT,
    PAUSE_LIMIT,
    STREAM_HINT,
    _call,
    _expect_bytes,
    _join,
    _judge,
    _line,
    _preload,
    _send_rest_when_read,
    message,
)
from .model import CheckFailed, Exercise
from .registry import register
from .tools import (
    CALL_TIMEOUT,
    STALL_TIMEOUT,  # noqa: F401 (the tests read it from here, next to EOF_TIMEOUT)
    pause_for,
    recv_until_closed,
    send_in_chunks,
    show_bytes,
)

__all__ = ["recv_all_exercise", "recv_exactly_exercise"]

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


# --- recv_exactly ------------------------------------------------------------------------
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
