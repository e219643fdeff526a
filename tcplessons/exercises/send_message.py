"""Checks for lesson 04's ``send_message(sock, text)``: a 4-byte length, then the text.

Each check calls the learner's function on one end of a real loopback connection and
compares every byte that reached the other end with :func:`frame` (the wire format: a
4-byte big-endian length N, then N bytes of UTF-8), never with the learner's own
``recv_message`` (two matching mistakes would cancel out).  ``recv_message`` is checked in
:mod:`tcplessons.exercises.recv_message`, ``LineReader`` in
:mod:`tcplessons.exercises.framing`.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable

from .framing import LESSON, STUCK
from .model import CheckFailed, Exercise
from .registry import register
from .tools import (
    ShortSendSocket,
    blocking_with_os_timeouts,
    call_with_timeout,
    loopback_pair,
    recv_until_closed,
    show_bytes,
    shut_down_and_close,
)

__all__ = ["frame", "send_message_exercise"]

send_message_exercise = Exercise(
    "send_message",
    lesson=LESSON,
    summary="send_message(sock, text): send a 4-byte big-endian length N, then the N bytes of text as UTF-8.",
)

SENDALL_HINT = (
    "send() may write only part of the data and returns how many bytes it wrote; "
    "sendall() keeps going until every byte is sent"
)
BIG_ENDIAN_HINT = "the length is big-endian (most significant byte first): struct.pack('>I', n) or n.to_bytes(4, 'big')"
BYTES_NOT_CHARS_HINT = (
    "count bytes, not characters: 'é' is 2 bytes in UTF-8; use len(text.encode('utf-8'))"
)


def frame(text: str) -> bytes:
    payload = text.encode("utf-8")
    return struct.pack(">I", len(payload)) + payload


def _wire_after(
    fn, texts: list[str], wrap: Callable[[socket.socket], socket.socket] | None = None
) -> bytes:
    """Call ``fn(sock, text)`` for each text; return every byte that reached the other end."""
    with loopback_pair() as (client, server):
        blocking_with_os_timeouts(client)
        sock = wrap(client) if wrap else client
        try:
            wire: dict = {}
            reader = threading.Thread(
                target=lambda: wire.setdefault("data", recv_until_closed(server)), daemon=True
            )
            reader.start()  # read while sending: a large message must not fill the buffers
            for text in texts:
                call_with_timeout(
                    fn, sock, text, timeout=STUCK, call=f"send_message(sock, {text[:20]!r})"
                )
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the learner closed the socket: what was sent is still judged
            reader.join(STUCK)
            return wire.get("data", b"")
        finally:
            shut_down_and_close(sock)


def _judge_wire(got: bytes, texts: list[str], *, short_send: bool = False) -> None:
    expected = b"".join(frame(t) for t in texts)
    if got == expected:
        return
    sent = ", ".join(repr(t if len(t) < 30 else t[:30] + "…") for t in texts)
    first = texts[0].encode("utf-8")
    header = got[:4]
    got_text = show_bytes(got)
    with_newlines = b"".join(frame(t + "\n") for t in texts)
    cause = ""
    if len(header) == 4 and header == struct.pack("<I", len(first)) and len(first) > 0:
        what, hint, cause = "the length prefix is little-endian", BIG_ENDIAN_HINT, "little-endian"
    elif len(header) == 4 and struct.unpack(">I", header)[0] == len(texts[0]) != len(first):
        what = f"the length prefix says {len(texts[0])} (characters), but {len(first)} bytes travel"
        hint, cause = BYTES_NOT_CHARS_HINT, "characters"
    elif (
        got == with_newlines
        or got.replace(b"\n", b"") == expected.replace(b"\n", b"")
        and len(got) > len(expected)
    ):
        what, cause = "a newline was added to the message", "newline"
        hint = (
            "the 4-byte length already says where a message ends, so no '\\n' is needed: "
            "send exactly the text's bytes after the length"
        )
    elif short_send and len(got) < len(expected):
        # send() wrote only 3 bytes of each call here: whatever the calls were, bytes are
        # missing because send() was not checked, not because the format is wrong.
        what = "some bytes never arrived: send() wrote only part of what it was given"
        got_text = f"{len(got)} of the {len(expected)} bytes"
        hint, cause = SENDALL_HINT, "send"
    elif len(got) < len(expected) and expected.startswith(got):
        what = "only the first part of the message arrived"
        got_text = "the first part of the bytes, then nothing more"
        hint = "send the 4-byte length and then every byte of the text"
    else:
        what, hint, cause = (
            "the bytes on the wire are not a 4-byte big-endian length followed by the UTF-8 text",
            (
                "build the message as struct.pack('>I', len(data)) + data, with data = text.encode('utf-8')"
            ),
            "format",
        )
    raise CheckFailed(
        what,
        sent=f"send_message(sock, …) with {sent}",
        got=got_text,
        expected=show_bytes(expected),
        hint=hint,
        cause=cause,
    )


@send_message_exercise.check("writes a 4-byte big-endian length, then the text as UTF-8")
def _writes_length_then_utf8(fn):
    _judge_wire(_wire_after(fn, ["hello"]), ["hello"])


@send_message_exercise.check("counts bytes, not characters (héllo, 日本, 🙂)")
def _counts_bytes_not_characters(fn):
    for text in ("héllo", "日本 🙂"):
        _judge_wire(_wire_after(fn, [text]), [text])


@send_message_exercise.check("sends every byte even when send() writes only part of it")
def _sends_everything_with_short_sends(fn):
    texts = ["a longer message, " * 10]
    _judge_wire(
        _wire_after(fn, texts, wrap=lambda s: ShortSendSocket.adopt(s, 3)), texts, short_send=True
    )


@send_message_exercise.check("sends an empty message and two messages back to back")
def _sends_empty_and_back_to_back(fn):
    _judge_wire(_wire_after(fn, [""]), [""])
    _judge_wire(_wire_after(fn, ["first", "second"]), ["first", "second"])


@send_message_exercise.check("sends a 1 MB message")
def _sends_1_mb_message(fn):
    texts = ["日本語テキスト " * 50_000]  # about 1.1 MB of UTF-8
    _judge_wire(_wire_after(fn, texts), texts, short_send=True)


register(send_message_exercise)
