"""Checks for lesson 08's ``RespReader``: sans-IO like lesson 04's ``LineReader``.

The checks feed it the bytes real clients send (redis-py, redis-cli, redis-benchmark, a
person in ``nc``), split in every awkward place, and hostile bytes; each verdict follows
the exercise's contract and, where the contract is silent, what ``redis-server`` 7 does.
"""

from __future__ import annotations

from typing import Any, List

from .model import CheckFailed, Exercise
from .registry import register
from .tools import call_with_timeout, show_bytes

__all__ = ["RespReader", "encode"]

LESSON = "08-mini-redis"
STUCK = 3.0


def encode(*args: bytes) -> bytes:
    """A command as clients send it: an array of bulk strings."""
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%b\r\n" % (len(a), a) for a in args)


# -- RespReader -------------------------------------------------------------------------------

RespReader = Exercise(
    "RespReader",
    lesson=LESSON,
    summary="RespReader().feed(data) returns the commands data completes, each a list of bytes; "
    "feed(b'') returns [] or raises EOFError mid-command; "
    "bad input raises ValueError('Protocol error: ...').",
)

KEEP_HINT = (
    "keep the bytes of an unfinished command for the next feed(), and keep going after a "
    "complete one: one feed may hold half a command, or many"
)
LENGTH_HINT = (
    "a bulk string's length counts bytes, and its payload may hold any bytes, '\\r\\n' too: take "
    "exactly that many bytes, never split the payload on '\\r\\n'"
)
WELL_FORMED_HINT = "only malformed input is a protocol error"
PROTOCOL_HINT = (
    "raise ValueError('Protocol error: ...') for bytes that are not RESP, "
    "as Redis answers -ERR Protocol error"
)

COMMANDS = [
    [b"SET", b"greeting", b"hello world"],
    [b"GET", b"greeting"],
    [b"SET", b"empty", b""],
    [b"SET", b"bin", b"a\r\nb\r\n*1\r\n$4\r\n\x00\xff"],
    [b"ECHO", "héllo wörld, 日本 🙂".encode()],
    [b"INCR", b"visits"],
    [b"DEL", b"greeting", b"empty"],
]
STREAM = b"".join(encode(*c) for c in COMMANDS) + b"PING\r\nECHO  \t hi\n" + encode(b"PING")
STREAM_COMMANDS = COMMANDS + [[b"PING"], [b"ECHO", b"hi"], [b"PING"]]


def _show_feeds(pieces: List[bytes], limit: int = 4) -> str:
    shown = ", ".join(show_bytes(p, 48) for p in pieces[:limit])
    more = f", … ({len(pieces)} feeds)" if len(pieces) > limit else ""
    return f"feed({shown})" if len(pieces) == 1 else f"feeds: {shown}{more}"


def _run_feeds(cls: Any, pieces: List[bytes], what: str, timeout: float = STUCK) -> List[Any]:
    """Feed a fresh ``cls()`` each piece; return what each feed returned (or the exception)."""

    def run() -> List[Any]:
        reader, results = cls(), []
        for piece in pieces:
            try:
                results.append(reader.feed(piece))
            except (ValueError, EOFError) as exc:
                results.append(exc)
                break
        return results

    results = call_with_timeout(
        run,
        timeout=timeout,
        call=f"feeding RespReader {what}",
        hint="feed() must return at once: does a loop in it never end?",
    )
    for result in results:
        if not isinstance(result, BaseException):
            _check_shape(result, pieces)
    return results


def _check_shape(result: Any, pieces: List[bytes]) -> None:
    if not isinstance(result, list) or not all(isinstance(c, list) for c in result):
        raise CheckFailed(
            f"feed() returned {show_bytes(repr(result).encode(), 60)[2:-1]}",
            sent=_show_feeds(pieces),
            expected="a list of commands, each a list of bytes arguments: [[b'GET', b'key']]",
            hint="return a list (empty when nothing is complete) of lists",
            cause="shape",
        )
    for command in result:
        for arg in command:
            if type(arg) is not bytes:
                raise CheckFailed(
                    f"an argument came back as {type(arg).__name__}: {arg!r}",
                    sent=_show_feeds(pieces),
                    expected=(
                        "bytes: keys and values are binary-safe, and a dict key must not change "
                        "(bytearray is not hashable)"
                    ),
                    hint="give each argument as bytes: bytes(buffer[start:end])",
                    cause="argument type",
                )


def _commands(results: List[Any]) -> List[List[bytes]]:
    found: List[List[bytes]] = []
    for result in results:
        if isinstance(result, BaseException):
            raise CheckFailed(
                f"feed() raised {type(result).__name__}: {result}",
                expected="no error: these are well-formed commands",
                hint=WELL_FORMED_HINT,
            )
        found += result
    return found


def _expect_commands(
    cls: Any, pieces: List[bytes], expected: List[List[bytes]], what: str, hint: str
) -> None:
    try:
        got = _commands(_run_feeds(cls, pieces, what))
    except CheckFailed as failure:
        failure.sent = failure.sent or _show_feeds(pieces)
        if failure.hint == WELL_FORMED_HINT:
            failure.hint = f"{hint} (only malformed input is a protocol error)"
        raise
    if got != expected:
        first = next(
            (i for i, (g, e) in enumerate(zip(got, expected, strict=False)) if g != e),
            min(len(got), len(expected)),
        )
        raise CheckFailed(
            f"fed {what}, command {first + 1} came out wrong"
            if first < len(got)
            else f"fed {what}, got {len(got)} commands, not {len(expected)}",
            sent=_show_feeds(pieces),
            got=repr(got[first]) if first < len(got) else repr(got[-3:]),
            expected=repr(expected[first])
            if first < len(expected)
            else f"{len(expected)} commands",
            hint=hint,
        )


def _pieces(data: bytes, size: int) -> List[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@RespReader.check("reads an array of bulk strings: the way clients send a command")
def _(cls):
    data = encode(b"SET", b"greeting", b"hello")
    _expect_commands(
        cls,
        [data],
        [[b"SET", b"greeting", b"hello"]],
        "one command",
        hint="*3 says three bulk strings follow; each $N says the next N bytes are one argument",
    )


@RespReader.check("returns every command of a pipelined feed, in order")
def _(cls):
    _expect_commands(
        cls,
        [STREAM],
        STREAM_COMMANDS,
        f"{len(STREAM_COMMANDS)} commands in one feed",
        hint=KEEP_HINT,
    )
    _expect_commands(
        cls,
        [encode(b"PING") * 3, b""],
        [[b"PING"]] * 3,
        "three PINGs in one feed (as redis-benchmark -P 3 sends)",
        hint=KEEP_HINT,
    )


@RespReader.check("keeps an unfinished command, whatever the place it is split at")
def _(cls):
    data = encode(b"SET", b"k", b"v\r\n1") + b"PING\r\n" + encode(b"ECHO", b"0123456789")
    expected = [[b"SET", b"k", b"v\r\n1"], [b"PING"], [b"ECHO", b"0123456789"]]
    for cut in range(1, len(data)):  # inside a length, between \r and \n, inside a payload...
        _expect_commands(
            cls,
            [data[:cut], data[cut:]],
            expected,
            f"three commands cut at byte {cut}",
            hint=KEEP_HINT,
        )


@RespReader.check("gives the same commands when the bytes arrive in pieces of 1, 5 and 4096")
def _(cls):
    many = STREAM * 40
    for size in (1, 5, 4096):
        _expect_commands(
            cls,
            _pieces(many, size),
            STREAM_COMMANDS * 40,
            f"{len(many)} bytes in pieces of {size}",
            hint=KEEP_HINT,
        )


@RespReader.check("takes a payload by its length: '\\r\\n' inside it, and bytes, not characters")
def _(cls):
    payload = "Grüße\r\n日本\r\n".encode()
    _expect_commands(
        cls,
        [encode(b"SET", b"k", payload)],
        [[b"SET", b"k", payload]],
        "a value holding '\\r\\n' and UTF-8",
        hint=LENGTH_HINT,
    )
    binary = bytes(range(256))
    _expect_commands(
        cls,
        [encode(b"SET", b"\x00\xff", binary)],
        [[b"SET", b"\x00\xff", binary]],
        "every byte value 0-255",
        hint=LENGTH_HINT,
    )


@RespReader.check(
    "reads $0 as an empty argument; a negative length in a request is a protocol error"
)
def _(cls):
    _expect_commands(
        cls,
        [encode(b"SET", b"k", b"") + encode(b"GET", b"k")],
        [[b"SET", b"k", b""], [b"GET", b"k"]],
        "$0 (an empty value)",
        hint="$0\\r\\n\\r\\n is an empty argument b'': zero bytes, then the '\\r\\n' that ends it",
    )
    _expect_protocol_error(
        cls,
        b"*2\r\n$3\r\nGET\r\n$-1\r\n",
        "$-1 inside a request",
        hint=(
            "$-1 (null) is something servers send in replies; in a request a length below zero is "
            "malformed"
        ),
    )


@RespReader.check("reads inline commands, as nc and telnet send them")
def _(cls):
    pieces = [b"PING\r\n", b"SET  k \t v\n", b"\r\n", b"\n", b"  \r\n", b"GET k", b"\r", b"\n"]
    _expect_commands(
        cls,
        pieces,
        [[b"PING"], [b"SET", b"k", b"v"], [b"GET", b"k"]],
        "inline commands",
        hint="a line that does not start with '*' is an inline command: "
        "words separated by spaces or tabs, "
        "ending in '\\r\\n' or '\\n'; an empty line is no command",
    )


@RespReader.check("treats *0 and *-1 as no command")
def _(cls):
    _expect_commands(
        cls,
        [b"*0\r\n*-1\r\n" + encode(b"PING")],
        [[b"PING"]],
        "*0, *-1, then PING",
        hint="an array count of zero or less is no command: skip it and read on",
    )


def _expect_protocol_error(cls: Any, data: bytes, what: str, hint: str = PROTOCOL_HINT) -> None:
    results = _run_feeds(cls, [data], what)
    last = results[-1] if results else None
    if not isinstance(last, ValueError):
        raise CheckFailed(
            f"fed {what}, feed() returned {last!r}"
            if not isinstance(last, BaseException)
            else f"fed {what}, feed() raised {last!r}",
            sent=_show_feeds([data]),
            expected="ValueError('Protocol error: ...')",
            hint=hint,
            cause="no protocol error",
        )
    if not str(last).startswith("Protocol error:"):
        raise CheckFailed(
            f"fed {what}, the ValueError said {str(last)!r}",
            sent=_show_feeds([data]),
            expected="a message starting with 'Protocol error:', as Redis's does",
            hint="raise ValueError('Protocol error: invalid bulk length'), for example",
        )


@RespReader.check("refuses lengths that are not plain decimal digits (int() takes some of them)")
def _(cls):
    hint = (
        "int() accepts b'+5', b' 5' and b'1_0'; Redis accepts only digits (and '-'): check the "
        "text first, e.g. re.fullmatch(rb'-?[0-9]+', digits)"
    )
    for digits in (b"+5", b" 5", b"1_0", b"abc", b""):
        _expect_protocol_error(
            cls,
            b"*2\r\n$4\r\nECHO\r\n$" + digits + b"\r\nhello\r\n",
            f"the bulk length {digits!r}",
            hint=hint,
        )
    for digits in (b"+2", b" 2", b"2_0", b"two"):
        _expect_protocol_error(
            cls,
            b"*" + digits + b"\r\n$4\r\nECHO\r\n$2\r\nhi\r\n",
            f"the array count {digits!r}",
            hint=hint,
        )


@RespReader.check("refuses an array element that is not a bulk string")
def _(cls):
    for element in (b":5\r\n", b"+PING\r\n", b"PING\r\n"):
        _expect_protocol_error(
            cls,
            b"*1\r\n" + element,
            f"*1 then {element!r}",
            hint=(
                "in a request every element of the array is a bulk string ($N); anything else is "
                "a protocol error, as Redis says: expected '$'"
            ),
        )


@RespReader.check("refuses an announced 1 GiB bulk at once, without waiting for it")
def _(cls):
    _expect_protocol_error(
        cls,
        b"*2\r\n$3\r\nSET\r\n$1073741824\r\n",
        "a header announcing 1 GiB",
        hint=(
            "Redis refuses a bulk over 512 MiB as soon as it reads the length: check the length "
            "before waiting for (and buffering) the payload"
        ),
    )
    results = _run_feeds(cls, [b"*1\r\n$536870912\r\n", b"abc"], "a header announcing 512 MiB")
    if any(isinstance(r, BaseException) for r in results):
        raise CheckFailed(
            "a bulk of exactly 512 MiB was refused",
            sent="*1\\r\\n$536870912\\r\\n",
            got=repr(results[-1]),
            hint="512 MiB is allowed; only longer bulks are a protocol error",
        )


@RespReader.check("refuses an inline line over 64 KiB before buffering much more of it")
def _(cls):
    pieces = [b"A" * 4096] * 256  # 1 MiB without a newline
    results = _run_feeds(cls, pieces, "1 MiB with no newline, in pieces of 4096")
    if not isinstance(results[-1], ValueError) or not str(results[-1]).startswith(
        "Protocol error:"
    ):
        raise CheckFailed(
            "1 MiB with no newline was buffered without complaint"
            if not isinstance(results[-1], BaseException)
            else f"raised {results[-1]!r}",
            sent="feeds of 4096 bytes of b'A', no '\\n' (256 of them)",
            expected=(
                "ValueError('Protocol error: too big inline request') once more than 64 KiB wait "
                "for their newline"
            ),
            hint=(
                "bound memory: when the unfinished line grows past 64 KiB, raise instead of "
                "keeping it"
            ),
        )
    fed = 4096 * len(results)
    if fed > 128 * 1024:
        raise CheckFailed(
            f"the protocol error came only after {fed // 1024} KiB",
            expected="an error once more than 64 KiB are waiting for their newline",
            hint="check the size of the unfinished line on every feed",
        )
    line = b"ECHO " + b"x" * 60_000 + b"\r\n"
    _expect_commands(
        cls,
        _pieces(line, 4096),
        [[b"ECHO", b"x" * 60_000]],
        "a 60 kB inline line",
        hint="a line under 64 KiB is fine",
    )


@RespReader.check("feed(b'') at hang-up: [] between commands, EOFError in the middle of one")
def _(cls):
    results = _run_feeds(cls, [encode(b"PING"), b""], "a command, then b''")
    if results != [[[b"PING"]], []]:
        raise CheckFailed(
            "a command then b'' came out wrong",
            got=repr(results),
            expected="[[[b'PING']], []]",
            hint="feed(b'') after complete commands returns []",
        )
    for half in (encode(b"SET", b"k", b"value")[:-4], b"*2\r\n$4\r\nEC", b"PIN"):
        results = _run_feeds(cls, [half, b""], f"{half!r}, then b''")
        if not isinstance(results[-1], EOFError):
            raise CheckFailed(
                "a hang-up in the middle of a command went unnoticed",
                sent=_show_feeds([half, b""]),
                got=repr(results[-1]),
                expected="EOFError",
                hint=(
                    "feed(b'') means the caller hung up: raise EOFError if part of a command is "
                    "still waiting"
                ),
            )


@RespReader.check("each RespReader keeps its own unfinished command")
def _(cls):
    def run():
        first, second = cls(), cls()
        return [
            first.feed(b"*1\r\n$4\r\nPI"),
            second.feed(encode(b"ECHO", b"b")),
            first.feed(b"NG\r\n"),
        ]

    hint = "keep the buffer in self (set it up in __init__), not in a class attribute"
    try:
        got = call_with_timeout(run, timeout=STUCK, call="two RespReaders")
    except (ValueError, EOFError) as exc:
        got = f"{type(exc).__name__}: {exc}"
    if got != [[], [[b"ECHO", b"b"]], [[b"PING"]]]:
        raise CheckFailed(
            "two RespReaders mixed up their commands",
            sent="first.feed(b'*1\\r\\n$4\\r\\nPI'); second.feed(ECHO b); first.feed(b'NG\\r\\n')",
            got=repr(got) if isinstance(got, list) else got,
            expected="[[], [[b'ECHO', b'b']], [[b'PING']]]",
            hint=hint,
        )


@RespReader.check("copes with 20 000 pipelined commands and a 1 MB value")
def _(cls):
    many = b"".join(encode(b"SET", b"key:%d" % i, b"x" * (i % 50)) for i in range(20_000))
    expected = [[b"SET", b"key:%d" % i, b"x" * (i % 50)] for i in range(20_000)]
    _expect_commands(
        cls, _pieces(many, 4096), expected, "20 000 SETs in pieces of 4096", hint=KEEP_HINT
    )
    big = bytes(range(256)) * 4096
    _expect_commands(
        cls,
        _pieces(encode(b"SET", b"big", big), 4096),
        [[b"SET", b"big", big]],
        "a 1 MB value in pieces of 4096",
        hint=LENGTH_HINT,
    )


register(RespReader)
