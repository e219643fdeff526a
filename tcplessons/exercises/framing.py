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
from typing import Any, Callable, List, Optional

from .model import CheckFailed, Exercise
from .registry import register
from .tools import (
    blocking_with_os_timeouts,
    shut_down_and_close,
    ShortRecvSocket,
    ShortSendSocket,
    call_with_timeout,
    loopback_pair,
    recv_until_closed,
    send_in_chunks,
    show_bytes,
)

__all__ = ["LineReader", "send_message", "recv_message"]

LESSON = "04-framing"
STUCK = 1.5



# -- LineReader -------------------------------------------------------------------------------

LineReader = Exercise(
    "LineReader",
    lesson=LESSON,
    summary="LineReader().feed(data) returns the complete lines data finishes, decoded as UTF-8, "
    "without line endings; feed(b'') returns the unfinished line.",
)

UNFINISHED_HINT = "keep the text after the last '\\n' for the next feed(): that line is not finished yet"
DECODER_HINT = (
    "a character can be split across two feeds: decode with "
    "codecs.getincrementaldecoder('utf-8')(errors='replace'), or split the bytes on b'\\n' "
    "first and decode whole lines"
)


def _feeds(cls: Any, pieces: List[bytes], what: str) -> List[List[str]]:
    """Make a fresh ``cls()`` and feed it each piece; return what each feed returned."""

    def run() -> List[List[str]]:
        reader = cls()
        return [list(reader.feed(piece)) for piece in pieces]

    try:
        return call_with_timeout(
            run, timeout=STUCK, call=f"feeding LineReader {what}",
            hint="feed() must return at once: does a loop in it never finish?",
        )
    except UnicodeDecodeError as exc:
        raise CheckFailed(
            f"LineReader raised UnicodeDecodeError when fed {what}",
            sent=_show_pieces(pieces),
            got=f"UnicodeDecodeError: {exc}",
            hint=DECODER_HINT,
        ) from None


def _show_pieces(pieces: List[bytes], limit: int = 6) -> str:
    shown = ", ".join(show_bytes(p, 24) for p in pieces[:limit])
    more = f", … ({len(pieces)} feeds)" if len(pieces) > limit else ""
    return f"feed({shown}{more})" if len(pieces) == 1 else f"feeds: {shown}{more}"


def _expect_feeds(cls: Any, pieces: List[bytes], expected: List[List[str]], what: str, hint: str) -> None:
    got = _feeds(cls, pieces, what)
    for piece, g, e in zip(pieces, got, expected):
        if g != e:
            raise CheckFailed(
                f"feed({show_bytes(piece, 24)}) returned {g!r}",
                sent=_show_pieces(pieces),
                got=repr(got),
                expected=repr(expected),
                hint=hint,
            )


def _lines_of(cls: Any, data: bytes, size: int) -> List[str]:
    pieces = [data[i : i + size] for i in range(0, len(data), size)] + [b""]
    lines: List[str] = []
    for returned in _feeds(cls, pieces, f"{len(data)} bytes in pieces of {size}"):
        lines += returned
    return lines


@LineReader.check("returns each complete line, in order, without its '\\n'")
def _(cls):
    _expect_feeds(
        cls, [b"one\ntwo\n\nthree\n"], [["one", "two", "", "three"]], "four lines at once",
        hint="split on '\\n' and return every finished line, without the '\\n' (an empty line is a line too)",
    )


@LineReader.check("splits only at '\\n', not at other characters str.splitlines() treats as line breaks")
def _(cls):
    # str.splitlines() also splits at \x0c (form feed), \x1c-\x1e, \x85, \u2028 and
    # more: characters that can sit inside a line a chat member types.
    pieces = ["page\x0cbreak", "file\x1cseparator", "line\u2028separator", "next\x85line"]
    data = "".join(piece + "\n" for piece in pieces).encode("utf-8")
    _expect_feeds(
        cls, [data], [pieces], "lines with \\x0c, \\x1c, \\u2028 and \\x85 inside them",
        hint="only '\\n' ends a line here: str.splitlines() also splits at '\\x0c', '\\x1c', "
        "'\\u2028' and other characters — use split('\\n') (or find b'\\n' in the bytes)",
    )


@LineReader.check("keeps an unfinished line until the rest of it arrives")
def _(cls):
    _expect_feeds(
        cls, [b"hel", b"lo\nwor", b"ld\n"], [[], ["hello"], ["world"]], "a line in pieces", hint=UNFINISHED_HINT
    )


@LineReader.check("gives the same lines when the bytes arrive in pieces of 1, 5 and 4096")
def _(cls):
    lines = [f"line {i}: Grüße, 日本, 🙂 " + "x" * (i % 7) for i in range(300)]
    data = "".join(line + ("\r\n" if i % 3 == 0 else "\n") for i, line in enumerate(lines)).encode()
    for size in (1, 5, 4096):
        got = _lines_of(cls, data, size)
        if got != lines:
            first = next((i for i, (g, e) in enumerate(zip(got, lines)) if g != e), min(len(got), len(lines)))
            hint = DECODER_HINT if any("\ufffd" in g for g in got) else UNFINISHED_HINT
            raise CheckFailed(
                f"fed in pieces of {size} byte{'s' if size > 1 else ''}, line {first + 1} came out wrong",
                sent=f"{len(lines)} lines of text with é, 日本 and 🙂 ({len(data)} bytes)",
                got=repr(got[first]) if first < len(got) else f"only {len(got)} lines",
                expected=repr(lines[first]) if first < len(lines) else f"{len(lines)} lines",
                hint=hint,
            )


@LineReader.check("removes '\\r\\n' line endings, as telnet sends them")
def _(cls):
    _expect_feeds(
        cls, [b"hi\r\n", b"there\r", b"\n"], [["hi"], [], ["there"]], "telnet lines",
        hint="telnet ends lines with '\\r\\n': remove a '\\r' left at the end of a line "
        "(it may arrive in one feed and its '\\n' in the next)",
    )


@LineReader.check("turns bytes that are not UTF-8 into U+FFFD instead of crashing")
def _(cls):
    _expect_feeds(
        cls, [b"caf\xe9 \xff\xfe!\n"], [["caf\ufffd \ufffd\ufffd!"]], "bytes that are not UTF-8",
        hint="decode with errors='replace', so bytes that are not UTF-8 become '\\ufffd'",
    )


@LineReader.check("returns the unfinished line when the caller hangs up (feed(b''))")
def _(cls):
    hint = "feed(b'') means the caller hung up: return the unfinished text as a last line, or [] if there is none"
    _expect_feeds(cls, [b"bye", b""], [[], ["bye"]], "an unfinished line, then b''", hint=hint)
    _expect_feeds(cls, [b"done\n", b""], [["done"], []], "a finished line, then b''", hint=hint)
    _expect_feeds(
        cls, [b"ab\xc3", b""], [[], ["ab\ufffd"]], "half a character, then b''",
        hint="at hang-up the half character will never be finished: it becomes '\\ufffd' "
        "(with an incremental decoder, call decoder.decode(b'', final=True))",
    )


@LineReader.check("each LineReader keeps its own unfinished line")
def _(cls):
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


@LineReader.check("copes with a 1 MB line and 20 000 short lines")
def _(cls):
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
            got=f"{len(got)} lines", expected="20000 lines", hint=UNFINISHED_HINT,
        )


# -- send_message ------------------------------------------------------------------------------

send_message = Exercise(
    "send_message",
    lesson=LESSON,
    summary="send_message(sock, text): send a 4-byte big-endian length N, then the N bytes of text as UTF-8.",
)

SENDALL_HINT = (
    "send() may write only part of the data and returns how many bytes it wrote; "
    "sendall() keeps going until every byte is sent"
)
BIG_ENDIAN_HINT = "the length is big-endian (most significant byte first): struct.pack('>I', n) or n.to_bytes(4, 'big')"
BYTES_NOT_CHARS_HINT = "count bytes, not characters: 'é' is 2 bytes in UTF-8; use len(text.encode('utf-8'))"


def frame(text: str) -> bytes:
    payload = text.encode("utf-8")
    return struct.pack(">I", len(payload)) + payload


def _wire_after(fn, texts: List[str], wrap: Optional[Callable[[socket.socket], socket.socket]] = None) -> bytes:
    """Call ``fn(sock, text)`` for each text; return every byte that reached the other end."""
    with loopback_pair() as (client, server):
        blocking_with_os_timeouts(client)
        sock = wrap(client) if wrap else client
        try:
            wire: dict = {}
            reader = threading.Thread(target=lambda: wire.setdefault("data", recv_until_closed(server)), daemon=True)
            reader.start()  # read while sending: a large message must not fill the buffers
            for text in texts:
                call_with_timeout(fn, sock, text, timeout=STUCK, call=f"send_message(sock, {text[:20]!r})")
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the learner closed the socket: what was sent is still judged
            reader.join(STUCK)
            return wire.get("data", b"")
        finally:
            shut_down_and_close(sock)


def _judge_wire(got: bytes, texts: List[str], *, short_send: bool = False) -> None:
    expected = b"".join(frame(t) for t in texts)
    if got == expected:
        return
    sent = ", ".join(repr(t if len(t) < 30 else t[:30] + "…") for t in texts)
    first = texts[0].encode("utf-8")
    header = got[:4]
    got_text = show_bytes(got)
    if len(header) == 4 and header == struct.pack("<I", len(first)) and len(first) > 0:
        what, hint = "the length prefix is little-endian", BIG_ENDIAN_HINT
    elif len(header) == 4 and struct.unpack(">I", header)[0] == len(texts[0]) != len(first):
        what, hint = f"the length prefix says {len(texts[0])} (characters), but {len(first)} bytes travel", BYTES_NOT_CHARS_HINT
    elif len(got) < len(expected) and expected.startswith(got):
        what = "only the first part of the message arrived"
        got_text = "the first part of the bytes, then nothing more"
        hint = SENDALL_HINT if short_send else "send the 4-byte length and then every byte of the text"
    else:
        what, hint = "the bytes on the wire are not a 4-byte big-endian length followed by the UTF-8 text", (
            "build the message as struct.pack('>I', len(data)) + data, with data = text.encode('utf-8')"
        )
    raise CheckFailed(what, sent=f"send_message(sock, …) with {sent}", got=got_text, expected=show_bytes(expected), hint=hint)


@send_message.check("writes a 4-byte big-endian length, then the text as UTF-8")
def _(fn):
    _judge_wire(_wire_after(fn, ["hello"]), ["hello"])


@send_message.check("counts bytes, not characters (héllo, 日本, 🙂)")
def _(fn):
    for text in ("héllo", "日本 🙂"):
        _judge_wire(_wire_after(fn, [text]), [text])


@send_message.check("sends every byte even when send() writes only part of it")
def _(fn):
    texts = ["a longer message, " * 10]
    _judge_wire(_wire_after(fn, texts, wrap=lambda s: ShortSendSocket.adopt(s, 3)), texts, short_send=True)


@send_message.check("sends an empty message and two messages back to back")
def _(fn):
    _judge_wire(_wire_after(fn, [""]), [""])
    _judge_wire(_wire_after(fn, ["first", "second"]), ["first", "second"])


@send_message.check("sends a 1 MB message")
def _(fn):
    texts = ["日本語テキスト " * 50_000]  # about 1.1 MB of UTF-8
    _judge_wire(_wire_after(fn, texts), texts, short_send=True)


# -- recv_message ------------------------------------------------------------------------------

recv_message = Exercise(
    "recv_message",
    lesson=LESSON,
    summary="recv_message(sock): read a 4-byte big-endian length N, then exactly N bytes; return "
    "the text; raise EOFError if the caller hangs up first.",
)

PARTIAL_RECV_HINT = (
    "recv(n) returned fewer than n bytes — TCP is a stream; keep reading until you have n bytes "
    "(first the 4 of the length, then the N of the text)"
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
    limit: Optional[int] = None,
    calls: int = 1,
    hang_up: bool = True,
    what: str = "",
) -> List[Any]:
    """Write ``wire`` to one end (in pieces of ``chunk``); call ``fn(sock)`` ``calls``
    times on the other.  Returns the results; the last may be an exception instance."""
    with loopback_pair() as (client, server):
        blocking_with_os_timeouts(client)
        sock = ShortRecvSocket.adopt(client, limit) if limit else client
        try:
            sender = send_in_chunks(server, wire, chunk, hang_up=hang_up)
            results: List[Any] = []
            for _ in range(calls):
                try:
                    results.append(
                        call_with_timeout(
                            fn, sock, timeout=STUCK, call="recv_message(sock)",
                            hint="it waited for bytes that never came: recv() returns b'' when the "
                            "caller hangs up — raise EOFError then",
                        )
                    )
                except (EOFError, struct.error, UnicodeDecodeError, ValueError, IndexError, OSError) as exc:
                    results.append(exc)
                    break
            sender.join(STUCK)
            return results
        finally:
            shut_down_and_close(sock)


def _exception_text(exc: BaseException) -> str:
    """``struct.error: unpack requires…`` or ``EOFError`` (no colon when it has no message)."""
    cls = type(exc)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    text = str(exc)
    return f"{name}: {text}" if text else name


def _describe(result: Any) -> str:
    if isinstance(result, UnicodeDecodeError):  # its position depends on where reads split
        return "UnicodeDecodeError (a character was split between two reads)"
    if isinstance(result, BaseException):
        return _exception_text(result)
    text = repr(result)
    return text if len(text) <= 60 else text[:60] + "…"


def _expect_texts(results: List[Any], expected: List[str], sent: str, *, pieces: bool = False) -> None:
    for i, want in enumerate(expected):
        got = results[i] if i < len(results) else None
        if got == want:
            continue
        nth = f"message {i + 1}" if len(expected) > 1 else "the message"
        shown = _describe(got)
        if isinstance(got, EOFError) and i == 0 and not pieces:
            what, hint = (
                f"recv_message raised EOFError although {nth} had arrived whole",
                "is the length read as big-endian? int.from_bytes(header, 'big') or struct.unpack('>I', header)",
            )
        elif isinstance(got, UnicodeDecodeError):
            what, hint = (
                "recv_message raised UnicodeDecodeError",
                "a character can be split across reads: join the N bytes first, then decode them once "
                "(and recv(n) may return fewer than n bytes: keep reading until you have n bytes)",
            )
        elif isinstance(got, BaseException) or got is None:
            if i > 0:
                what, hint = f"{nth} was lost: recv_message read past the end of message {i}", OVERREAD_HINT
            else:
                what, hint = f"recv_message failed on {nth}", PARTIAL_RECV_HINT
        elif isinstance(got, str) and want.startswith(got):
            what, hint = f"recv_message returned only the start of {nth}", PARTIAL_RECV_HINT
            shown = "the first part of the text only"
        elif isinstance(got, bytes):
            what, hint = "recv_message returned bytes, not text", "decode the N bytes with .decode('utf-8')"
        elif i > 0:
            what, hint = f"{nth} came out wrong: recv_message read past the end of message {i}", OVERREAD_HINT
        else:
            what, hint = f"recv_message returned something other than {nth}", PARTIAL_RECV_HINT
        raise CheckFailed(what, sent=sent, got=shown, expected=repr(want if len(want) < 60 else want[:60] + "…"), hint=hint)


@recv_message.check("reads one message: a 4-byte big-endian length, then the UTF-8 text")
def _(fn):
    text = "hello, 世界"
    _expect_texts(_receive(fn, frame(text)), [text], sent=show_bytes(frame(text)))


@recv_message.check("reads a message that arrives in pieces of 1, 5 and 4096 bytes")
def _(fn):
    text = "Grüße, 日本 🙂 " * 400
    for chunk in (1, 5, 4096):
        wire = frame(text if chunk > 1 else text[:200])
        # Here recv() returns at most 3 bytes: "recv(4) gives 4 bytes" fails every time.
        results = _receive(fn, wire, chunk=chunk, limit=3)
        _expect_texts(
            results, [text if chunk > 1 else text[:200]],
            sent=f"{show_bytes(wire)} in pieces of {chunk} byte{'s' if chunk > 1 else ''}", pieces=True,
        )


@recv_message.check("reads two messages sent back to back, one at a time")
def _(fn):
    texts = ["first", "second, 二番目"]
    wire = frame(texts[0]) + frame(texts[1])
    _expect_texts(_receive(fn, wire, calls=2), texts, sent=f"{show_bytes(wire)} in one sendall()")


@recv_message.check("raises EOFError when the caller hangs up before a whole message")
def _(fn):
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


@recv_message.check("reads a 1 MB message")
def _(fn):
    text = "日本語テキスト " * 50_000
    wire = frame(text)
    _expect_texts(_receive(fn, wire, chunk=4096), [text], sent=show_bytes(wire), pieces=True)


register(LineReader)
register(send_message)
register(recv_message)
