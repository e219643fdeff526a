"""Checks for lesson 04 (framing): ``LineReader``, ``send_message(sock, text)`` and
``recv_message(sock)``.

``LineReader`` is sans-IO (bytes in, lines out), so its checks feed it bytes directly, in
awkward pieces.  ``send_message`` and ``recv_message`` are each checked on their own
against the wire format — a 4-byte big-endian length N, then N bytes of UTF-8 — through
real loopback sockets, never only as a pair (two matching mistakes would cancel out).
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable
from typing import Any

from .model import CheckFailed, Exercise
from .registry import register
from .tools import (
    CALL_TIMEOUT,
    CheckSocket,
    ShortRecvSocket,
    ShortSendSocket,
    adopt,
    blocking_with_os_timeouts,
    call_with_timeout,
    exact_type_problem,
    loopback_pair,
    pause_for,
    recv_until_closed,
    send_in_chunks,
    show_bytes,
    shut_down_and_close,
)

__all__ = ["line_reader_exercise", "recv_message_exercise", "send_message_exercise"]

LESSON = "04-framing"
#: feed() does no waiting at all, but feeding a megabyte in 4096-byte pieces takes a
#: while on a busy machine: generous, it only ever fires on a real hang.
STUCK = CALL_TIMEOUT
#: The longest mid-stream pause a check makes (see tools.pause_for).
PAUSE_LIMIT = pause_for(3.0)


# -- LineReader -------------------------------------------------------------------------------

line_reader_exercise = Exercise(
    "LineReader",
    lesson=LESSON,
    summary="LineReader().feed(data) returns the complete lines data finishes, decoded as UTF-8, "
    "without line endings; feed(b'') returns the unfinished line.",
)

UNFINISHED_HINT = (
    "keep the text after the last '\\n' for the next feed(): that line is not finished yet"
)
CR_HINT = (
    "a line ending may be '\\r\\n' (telnet, Windows): remove a '\\r' left at the end of a "
    "line (it may arrive in one feed and its '\\n' in the next)"
)
STRIP_HINT = (
    "strip() removes more than the line ending: spaces a member typed at the start or end "
    "of a line are part of it; remove only the '\\n' (and a '\\r' just before it)"
)
DECODER_HINT = (
    "a character can be split across two feeds: decode with "
    "codecs.getincrementaldecoder('utf-8')(errors='replace'), or split the bytes on b'\\n' "
    "first and decode whole lines"
)


def _feeds(cls: Any, pieces: list[bytes], what: str) -> list[list[str]]:
    """Make a fresh ``cls()`` and feed it each piece; return what each feed returned."""

    def run() -> list[list[str]]:
        reader = cls()
        return [list(reader.feed(piece)) for piece in pieces]

    try:
        return call_with_timeout(
            run,
            timeout=STUCK,
            call=f"feeding LineReader {what}",
            hint="feed() must return at once: does a loop in it never finish?",
        )
    except UnicodeDecodeError as exc:
        raise CheckFailed(
            f"LineReader raised UnicodeDecodeError when fed {what}",
            sent=_show_pieces(pieces),
            got=f"UnicodeDecodeError: {exc}",
            hint=DECODER_HINT,
        ) from None


def _show_pieces(pieces: list[bytes], limit: int = 6) -> str:
    shown = ", ".join(show_bytes(p, 24) for p in pieces[:limit])
    more = f", … ({len(pieces)} feeds)" if len(pieces) > limit else ""
    return f"feed({shown}{more})" if len(pieces) == 1 else f"feeds: {shown}{more}"


def _show_feeds(pieces: list[bytes], results: list[list[str]]) -> str:
    """``feed(b'hel') → [], then feed(b'lo\\n') → ['hello']``: each call next to what it
    returned, so a learner sees at a glance which call went wrong."""
    return ", then ".join(f"feed({show_bytes(p, 24)}) → {r!r}" for p, r in zip(pieces, results))


def _line_ending_hint(got: list[str], expected: list[str]) -> str:
    """A hint about '\\r' or .strip() when that is what the difference is, else ''."""
    for g, e in zip(got, expected):
        if type(g) is str and g != e:
            if g == e + "\r" or g.rstrip("\r") == e:
                return CR_HINT
            if g == e.strip() or g == e.rstrip():
                return STRIP_HINT
    return ""


def _expect_feeds(
    cls: Any, pieces: list[bytes], expected: list[list[str]], what: str, hint: str
) -> None:
    got = _feeds(cls, pieces, what)
    for piece, g, e in zip(pieces, got, expected):
        if g != e or any(type(line) is not str for line in g):
            odd = next((exact_type_problem(line, str) for line in g if type(line) is not str), None)
            raise CheckFailed(
                f"feed({show_bytes(piece, 24)}) returned {g!r}"
                if not odd
                else f"feed() returned a line that is {odd}",
                got=_show_feeds(pieces, got),
                expected=_show_feeds(pieces, expected),
                hint=_line_ending_hint(g, e) or hint
                if not odd
                else "return each line as a plain str",
            )


def _lines_of(cls: Any, data: bytes, size: int) -> list[str]:
    pieces = [data[i : i + size] for i in range(0, len(data), size)] + [b""]
    lines: list[str] = []
    for returned in _feeds(cls, pieces, f"{len(data)} bytes in pieces of {size}"):
        lines += returned
    return lines


@line_reader_exercise.check("returns each complete line, in order, without its '\\n'")
def _returns_each_complete_line_order_without(cls):
    _expect_feeds(
        cls,
        [b"one\ntwo\n\nthree\n"],
        [["one", "two", "", "three"]],
        "four lines at once",
        hint="split on '\\n' and return every finished line, without the '\\n' (an empty line is a line too)",
    )


@line_reader_exercise.check(
    "splits only at '\\n', not at other characters str.splitlines() treats as line breaks"
)
def _splits_only_at_newline(cls):
    # str.splitlines() also splits at \x0c (form feed), \x1c-\x1e, \x85, \u2028 and
    # more: characters that can sit inside a line a chat member types.
    pieces = ["page\x0cbreak", "file\x1cseparator", "line\u2028separator", "next\x85line"]
    data = "".join(piece + "\n" for piece in pieces).encode("utf-8")
    _expect_feeds(
        cls,
        [data],
        [pieces],
        "lines with \\x0c, \\x1c, \\u2028 and \\x85 inside them",
        hint="only '\\n' ends a line here: str.splitlines() also splits at '\\x0c', '\\x1c', "
        "'\\u2028' and other characters — use split('\\n') (or find b'\\n' in the bytes)",
    )


@line_reader_exercise.check("keeps an unfinished line until the rest of it arrives")
def _keeps_unfinished_line_until_rest_arrives(cls):
    _expect_feeds(
        cls,
        [b"hel", b"lo\nwor", b"ld\n"],
        [[], ["hello"], ["world"]],
        "a line in pieces",
        hint=UNFINISHED_HINT,
    )


@line_reader_exercise.check("gives the same lines when the bytes arrive in pieces of 1, 5 and 4096")
def _same_lines_in_pieces_of_1_5_4096(cls):
    lines = [f"line {i}: Grüße, 日本, 🙂 " + "x" * (i % 7) for i in range(300)]
    data = "".join(line + ("\r\n" if i % 3 == 0 else "\n") for i, line in enumerate(lines)).encode()
    for size in (1, 5, 4096):
        got = _lines_of(cls, data, size)
        if got != lines:
            first = next(
                (i for i, (g, e) in enumerate(zip(got, lines)) if g != e), min(len(got), len(lines))
            )
            hint = (
                DECODER_HINT
                if any("\ufffd" in g for g in got)
                else _line_ending_hint(got[first : first + 1], lines[first : first + 1])
                or UNFINISHED_HINT
            )
            raise CheckFailed(
                f"fed in pieces of {size} byte{'s' if size > 1 else ''}, line {first + 1} came out wrong",
                sent=f"{len(lines)} lines of text with é, 日本 and 🙂 ({len(data)} bytes)",
                got=repr(got[first]) if first < len(got) else f"only {len(got)} lines",
                expected=repr(lines[first]) if first < len(lines) else f"{len(lines)} lines",
                hint=hint,
            )


@line_reader_exercise.check("removes '\\r\\n' line endings, as telnet sends them")
def _removes_line_endings_telnet_sends_them(cls):
    _expect_feeds(
        cls,
        [b"hi\r\n", b"there\r", b"\n"],
        [["hi"], [], ["there"]],
        "telnet lines",
        hint=CR_HINT,
    )


@line_reader_exercise.check("turns bytes that are not UTF-8 into U+FFFD instead of crashing")
def _replaces_bytes_that_are_not_utf8(cls):
    _expect_feeds(
        cls,
        [b"caf\xe9 \xff\xfe!\n"],
        [["caf\ufffd \ufffd\ufffd!"]],
        "bytes that are not UTF-8",
        hint="decode with errors='replace', so bytes that are not UTF-8 become '\\ufffd'",
    )


@line_reader_exercise.check("returns the unfinished line when the caller hangs up (feed(b''))")
def _returns_unfinished_line_caller_hangs_up(cls):
    hint = "feed(b'') means the caller hung up: return the unfinished text as a last line, or [] if there is none"
    _expect_feeds(cls, [b"bye", b""], [[], ["bye"]], "an unfinished line, then b''", hint=hint)
    _expect_feeds(cls, [b"done\n", b""], [["done"], []], "a finished line, then b''", hint=hint)
    _expect_feeds(
        cls,
        [b"ab\xc3", b""],
        [[], ["ab\ufffd"]],
        "half a character, then b''",
        hint="at hang-up the half character will never be finished: it becomes '\\ufffd' "
        "(with an incremental decoder, call decoder.decode(b'', final=True))",
    )


@line_reader_exercise.check("each LineReader keeps its own unfinished line")
def _each_linereader_keeps_own_unfinished_line(cls):
    def run():
        first, second = cls(), cls()
        return [list(first.feed(b"aaa")), list(second.feed(b"bbb\n")), list(first.feed(b"\n"))]

    got = call_with_timeout(run, timeout=STUCK, call="two LineReaders")
    if got != [[], ["bbb"], ["aaa"]]:
        raise CheckFailed(
            "two LineReaders mixed up their lines",
            sent="first.feed(b'aaa'); second.feed(b'bbb\\n'); first.feed(b'\\n')",
            got=repr(got),
            expected=repr([[], ["bbb"], ["aaa"]]),
            hint="keep the unfinished line in self (set it up in __init__), not in a class attribute",
        )


@line_reader_exercise.check("copes with a 1 MB line and 20 000 short lines")
def _copes_with_a_long_line_and_many_lines(cls):
    long_line = "é" * 500_000  # 1 MB of UTF-8
    got = _lines_of(cls, long_line.encode() + b"\n", 4096)
    if got != [long_line]:
        raise CheckFailed(
            "a 1 MB line came out wrong",
            got=f"{len(got)} lines" if len(got) != 1 else f"a line of {len(got[0])} characters",
            expected="one line of 500000 characters",
            hint=DECODER_HINT,
        )
    many = [str(i) for i in range(20_000)]
    got = _lines_of(cls, ("\n".join(many) + "\n").encode(), 4096)
    if got != many:
        raise CheckFailed(
            "20 000 short lines came out wrong",
            got=f"{len(got)} lines",
            expected="20000 lines",
            hint=UNFINISHED_HINT,
        )


# -- send_message ------------------------------------------------------------------------------

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


# -- recv_message ------------------------------------------------------------------------------

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
            isinstance(got, UnicodeDecodeError) or type(got) is str and want.startswith(got)
        ):
            # Where a short read ends (on a character boundary or inside one) depends on
            # timing; the report does not.
            what = f"recv_message did not read the whole of {nth} before decoding it"
            shown = "only the start of the text, or UnicodeDecodeError (a character split between two reads)"
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


register(line_reader_exercise)
register(send_message_exercise)
register(recv_message_exercise)
