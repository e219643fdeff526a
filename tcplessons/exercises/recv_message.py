"""Checks for lesson 04's ``recv_message(sock)``: read a 4-byte length, then that many bytes.

Each check writes :func:`~tcplessons.exercises.send_message.frame`'s bytes (the wire
format: a 4-byte big-endian length N, then N bytes of UTF-8) to one end of a real
loopback connection, in awkward pieces and with pauses, and calls the learner's function
on the other end, never with the learner's own ``send_message`` (two matching mistakes
would cancel out).  ``send_message`` is checked in
:mod:`tcplessons.exercises.send_message`, ``LineReader`` in
:mod:`tcplessons.exercises.framing`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from .framing import LESSON
from .model import CheckFailed, Exercise
from .registry import register
from .send_message import frame
from .tools import (
    CALL_TIMEOUT,
    CheckSocket,
    ShortRecvSocket,
    adopt,
    blocking_with_os_timeouts,
    call_with_timeout,
    loopback_pair,
    pause_for,
    send_in_chunks,
    show_bytes,
    shut_down_and_close,
)

__all__ = ["recv_message_exercise"]

#: The longest mid-stream pause a check makes (see tools.pause_for).
PAUSE_LIMIT = pause_for(3.0)


recv_message_exercise = Exercise(
    "recv_message",
    lesson=LESSON,
    summary="recv_message(sock): read a 4-byte big-endian length N, then exactly N bytes; return "
    "the text; raise EOFError if the caller hangs up first.",
)

PARTIAL_RECV_HINT = (
    "recv(n) returned fewer than n bytes — TCP is a stream; keep reading until you have n bytes "
    "(first the 4 of the length, then the N of the text)"
)
PAUSE_HINT = (
    "a pause is not a hang-up: only recv() returning b'' means the caller has finished; "
    "do not stop on a timeout (socket.timeout) or on BlockingIOError, keep waiting in recv()"
)
OVERREAD_HINT = (
    "read exactly 4 bytes, then exactly N: never recv() more than the current message still "
    "needs, or you swallow the start of the next one"
)


def _receive(
    fn,
    wire: bytes,
    *,
    chunk: int = 65536,
    limit: int | None = None,
    calls: int = 1,
    hang_up: bool = True,
    what: str = "",
    pause: Callable[[CheckSocket], float] = lambda sock: 0.0,
) -> list[Any]:
    """Write ``wire`` to one end (in pieces of ``chunk``); call ``fn(sock)`` ``calls``
    times on the other.  Returns the results; the last may be an exception instance.

    Half way the writer waits until the learner's code has read everything so far and
    asks for more (then ``pause(sock)`` seconds more), so the data is never all queued
    before it reads, and a reader that stops when nothing is waiting stops there on
    every run."""
    with loopback_pair() as (client, server):
        blocking_with_os_timeouts(client)
        sock = adopt(ShortRecvSocket, client, limit=limit) if limit else adopt(CheckSocket, client)
        try:
            sender = send_in_chunks(
                server,
                wire,
                chunk,
                hang_up=hang_up,
                pause_at=len(wire) // 2 if len(wire) > 1 else None,
                pause=lambda: pause(sock),
                reader=sock,
            )
            results: list[Any] = []
            for _ in range(calls):
                try:
                    results.append(
                        call_with_timeout(
                            fn,
                            sock,
                            timeout=CALL_TIMEOUT + PAUSE_LIMIT,
                            call="recv_message(sock)",
                            hint="it waited for bytes that never came: recv() returns b'' when the "
                            "caller hangs up — raise EOFError then",
                        )
                    )
                except (
                    EOFError,
                    struct.error,
                    UnicodeDecodeError,
                    ValueError,
                    IndexError,
                    OSError,
                ) as exc:
                    results.append(exc)
                    break
            sock.starved.set()  # the calls are over: a writer still waiting need not
            sender.join(CALL_TIMEOUT)
            if sock.gave_up:
                results.append(_GaveUp())
            return results
        finally:
            shut_down_and_close(sock)


class _GaveUp(Exception):
    """Recorded when the learner's code gave up reading when nothing had arrived."""


def _exception_text(exc: BaseException) -> str:
    """``struct.error: unpack requires…`` or ``EOFError`` (no colon when it has no message)."""
    cls = type(exc)
    name = (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )
    text = str(exc)
    return f"{name}: {text}" if text else name


def _describe(result: Any) -> str:
    if isinstance(result, UnicodeDecodeError):  # its position depends on where reads split
        return "UnicodeDecodeError (a character was split between two reads)"
    if isinstance(result, BaseException):
        return _exception_text(result)
    text = repr(result)
    return text if len(text) <= 60 else text[:60] + "…"


def _expect_texts(
    results: list[Any], expected: list[str], sent: str, *, pieces: bool = False
) -> None:
    gave_up = any(isinstance(r, _GaveUp) for r in results)
    results = [r for r in results if not isinstance(r, _GaveUp)]
    if gave_up and results[: len(expected)] != expected:
        raise CheckFailed(
            "recv_message stopped when nothing had arrived for a moment",
            sent=sent + ", the second half after a moment's pause",
            expected=repr(expected[0] if len(expected[0]) < 60 else expected[0][:60] + "…"),
            hint=PAUSE_HINT,
            cause="pause",
        )
    for i, want in enumerate(expected):
        got = results[i] if i < len(results) else None
        if type(got) is str and got == want:
            continue
        nth = f"message {i + 1}" if len(expected) > 1 else "the message"
        shown = _describe(got)
        if isinstance(got, EOFError) and i == 0 and not pieces:
            what, hint = (
                f"recv_message raised EOFError although {nth} had arrived whole",
                "is the length read as big-endian? int.from_bytes(header, 'big') or struct.unpack('>I', header)",
            )
        elif pieces and (
            isinstance(got, UnicodeDecodeError) or type(got) is str and len(got) < len(want)
        ):
            # Where a short read ends depends on timing: inside the text, inside a
            # character, or inside the 4-byte length (then the "text" is a piece of the
            # length).  The report must not.
            what = f"recv_message did not read the whole of {nth} before decoding it"
            shown = "less than the whole text, or UnicodeDecodeError (a character split between two reads)"
            hint = PARTIAL_RECV_HINT + "; join the N bytes first, then decode them once"
        elif isinstance(got, UnicodeDecodeError):
            what, hint = (
                "recv_message raised UnicodeDecodeError",
                "a character can be split across reads: join the N bytes first, then decode them once "
                "(and recv(n) may return fewer than n bytes: keep reading until you have n bytes)",
            )
        elif isinstance(got, BaseException) or got is None:
            if i > 0:
                what, hint = (
                    f"{nth} was lost: recv_message read past the end of message {i}",
                    OVERREAD_HINT,
                )
            else:
                what, hint = f"recv_message failed on {nth}", PARTIAL_RECV_HINT
        elif isinstance(got, str) and want.startswith(got):
            what, hint = f"recv_message returned only the start of {nth}", PARTIAL_RECV_HINT
            shown = "the first part of the text only"
        elif isinstance(got, bytes):
            what, hint = (
                "recv_message returned bytes, not text",
                "decode the N bytes with .decode('utf-8')",
            )
        elif i > 0:
            what, hint = (
                f"{nth} came out wrong: recv_message read past the end of message {i}",
                OVERREAD_HINT,
            )
        else:
            what, hint = f"recv_message returned something other than {nth}", PARTIAL_RECV_HINT
        raise CheckFailed(
            what,
            sent=sent,
            got=shown,
            expected=repr(want if len(want) < 60 else want[:60] + "…"),
            hint=hint,
        )


@recv_message_exercise.check("reads one message: a 4-byte big-endian length, then the UTF-8 text")
def _reads_one_message(fn):
    text = "hello, 世界"
    _expect_texts(_receive(fn, frame(text)), [text], sent=show_bytes(frame(text)))


@recv_message_exercise.check("reads a message that arrives in pieces of 1, 5 and 4096 bytes")
def _reads_a_message_in_pieces(fn):
    text = "Grüße, 日本 🙂 " * 400
    for chunk in (1, 5, 4096):
        wire = frame(text if chunk > 1 else text[:200])
        # Here recv() returns at most 3 bytes: "recv(4) gives 4 bytes" fails every time.
        results = _receive(fn, wire, chunk=chunk, limit=3)
        _expect_texts(
            results,
            [text if chunk > 1 else text[:200]],
            sent=f"{show_bytes(wire)} in pieces of {chunk} byte{'s' if chunk > 1 else ''}",
            pieces=True,
        )


@recv_message_exercise.check("waits through a pause in the middle of a message")
def _waits_through_a_pause(fn):
    text = "half now, and the other half after a pause"
    # As long as the learner's own socket timeout and more: a pause is not the end.
    results = _receive(fn, frame(text), pause=lambda sock: pause_for(sock.gettimeout()))
    _expect_texts(results, [text], sent=show_bytes(frame(text)), pieces=True)


@recv_message_exercise.check("reads two messages sent back to back, one at a time")
def _reads_two_messages_back_to_back(fn):
    texts = ["first", "second, 二番目"]
    wire = frame(texts[0]) + frame(texts[1])
    _expect_texts(_receive(fn, wire, calls=2), texts, sent=f"{show_bytes(wire)} in one sendall()")


@recv_message_exercise.check("raises EOFError when the caller hangs up before a whole message")
def _raises_eoferror_on_early_hang_up(fn):
    cases = [
        (b"", "nothing, then hung up"),
        (b"\x00\x00", "half a length, then hung up"),
        (struct.pack(">I", 10) + b"abcd", "a length of 10 and 4 bytes, then hung up"),
    ]
    for wire, story in cases:
        result = _receive(fn, wire)[0]
        if isinstance(result, EOFError):
            continue
        raise CheckFailed(
            f"recv_message did not raise EOFError when sent {story}",
            sent=show_bytes(wire) + " then hung up",
            got=_describe(result),
            expected="EOFError",
            hint="recv() returns b'' when the caller hangs up: if the message is not complete then, raise EOFError",
        )


@recv_message_exercise.check("reads a 1 MB message")
def _reads_1_mb_message(fn):
    text = "日本語テキスト " * 50_000
    wire = frame(text)
    _expect_texts(_receive(fn, wire, chunk=4096), [text], sent=show_bytes(wire), pieces=True)


register(recv_message_exercise)
