"""Checks for lesson 04's ``LineReader``, and what lesson 04's exercises share.

``LineReader`` is sans-IO (bytes in, lines out), so its checks feed it bytes directly, in
awkward pieces.  Lesson 04's other exercises, ``send_message(sock, text)`` and
``recv_message(sock)``, are each checked on their own against the wire format — a 4-byte
big-endian length N, then N bytes of UTF-8 — through real loopback sockets, never only as
a pair (two matching mistakes would cancel out): see
:mod:`tcplessons.exercises.send_message` and :mod:`tcplessons.exercises.recv_message`.
"""

from __future__ import annotations

from typing import Any

from .model import CheckFailed, Exercise
from .registry import register
from .tools import CALL_TIMEOUT, call_with_timeout, exact_type_problem, show_bytes

__all__ = ["line_reader_exercise"]

LESSON = "04-framing"
#: feed() does no waiting at all, but feeding a megabyte in 4096-byte pieces takes a
#: while on a busy machine: generous, it only ever fires on a real hang.
STUCK = CALL_TIMEOUT


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


register(line_reader_exercise)
