"""Checks for lesson 08's ``RespReader``: sans-IO like lesson 04's ``LineReader``.

The checks feed it the bytes real clients send (redis-py, redis-cli, redis-benchmark, a
person in ``nc``), split in every awkward place, and hostile bytes; each verdict follows
the exercise's contract and, where the contract is silent, what ``redis-server`` 7 does.
"""

from __future__ import annotations

from .model import CheckFailed, Exercise
from .registry import register
from .resp_feeding import (
    EMPTY_HINT,
    INLINE_HINT,
    KEEP_HINT,
    LENGTH_HINT,
    ONE_COMMAND_HINT,
    _expect_bounded,
    _expect_commands,
    _expect_protocol_error,
    _pieces,
    _require_own_state,
    _run_feeds,
    _show_feeds,
    encode,
)

__all__ = ["RespReader", "encode"]

LESSON = "08-mini-redis"
RespReader = Exercise(
    "RespReader",
    lesson=LESSON,
    summary="RespReader().feed(data) returns the commands data completes, each a list of bytes; "
    "feed(b'') returns [] or raises EOFError mid-command; "
    "bad input raises ValueError('Protocol error: ...').",
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


@RespReader.check("each RespReader keeps its own unfinished command")
def _(cls):
    _require_own_state(cls)
    _expect_commands(
        cls,
        [b"*1\r\n$4\r\nPI", b"NG\r\n"],
        [[b"PING"]],
        "one command in two feeds",
        hint=KEEP_HINT,
    )


@RespReader.check("reads an array of bulk strings: the way clients send a command")
def _(cls):
    data = encode(b"SET", b"greeting", b"hello")
    _expect_commands(
        cls,
        [data],
        [[b"SET", b"greeting", b"hello"]],
        "one command",
        hint=ONE_COMMAND_HINT,
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
        hint=EMPTY_HINT,
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
    pieces = [
        b"PING\r\n",
        b"SET  k \t v\n",
        b"\r\n",
        b"\n",
        b"  \r\n",
        b"GET k",
        b"\r",
        b"\n",
    ]
    _expect_commands(
        cls,
        pieces,
        [[b"PING"], [b"SET", b"k", b"v"], [b"GET", b"k"]],
        "inline commands",
        hint=INLINE_HINT,
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


@RespReader.check("refuses lengths that are not plain decimal digits (int() takes some of them)")
def _(cls):
    hint = (
        "Redis reads a length as plain decimal digits: an optional '-', then 0 or a number "
        "without leading zeros (int() also accepts b'+5', b' 5', b'1_0' and b'05'): check the "
        "text first, e.g. re.fullmatch(rb'0|-?[1-9][0-9]*', digits)"
    )
    for digits in (b"+5", b" 5", b"1_0", b"abc", b"", b"05", b"-0"):
        _expect_protocol_error(
            cls,
            b"*2\r\n$4\r\nECHO\r\n$" + digits + b"\r\nhello\r\n",
            f"the bulk length {digits!r}",
            hint=hint,
        )
    for digits in (b"+2", b" 2", b"2_0", b"two", b"02", b"-0"):
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


@RespReader.check("refuses a line over 64 KiB (inline, or a * or $ header) before buffering more")
def _(cls):
    _expect_bounded(
        cls,
        b"",
        b"A",
        "an inline line without end",
        hint="bound memory: when an unfinished inline line grows past 64 KiB, raise "
        "ValueError('Protocol error: too big inline request') instead of keeping it",
    )
    header_hint = (
        "bound memory in header lines too: Redis answers 'Protocol error: too big mbulk count "
        "string' (after '*') or 'too big bulk count string' (after '$') when more than 64 KiB "
        "wait for the header's '\\r\\n'"
    )
    _expect_bounded(cls, b"*", b"1", "'*' then digits without end", hint=header_hint)
    _expect_bounded(cls, b"*1\r\n$", b"1", "'*1', '$' then digits without end", hint=header_hint)
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


@RespReader.check("copes with 20 000 pipelined commands and a 1 MB value")
def _(cls):
    many = b"".join(encode(b"SET", b"key:%d" % i, b"x" * (i % 50)) for i in range(20_000))
    expected = [[b"SET", b"key:%d" % i, b"x" * (i % 50)] for i in range(20_000)]
    _expect_commands(
        cls,
        _pieces(many, 4096),
        expected,
        "20 000 SETs in pieces of 4096",
        hint=KEEP_HINT,
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
