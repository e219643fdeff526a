"""Checks for lesson 08's ``handle_command(store, args)``: reply by reply, the bytes the
real ``redis-server`` 7 sends for the same command."""

from __future__ import annotations

from typing import Any, List

from ..redis_commands import unknown_command_error
from .model import CheckFailed, Exercise
from .registry import register
from .tools import call_with_timeout, show_bytes

__all__ = ["handle_command"]

LESSON = "08-mini-redis"
STUCK = 3.0

# -- handle_command --------------------------------------------------------------------------

handle_command = Exercise(
    "handle_command",
    lesson=LESSON,
    summary=(
        "handle_command(store, args) returns the RESP reply (bytes) Redis 7 sends for PING, ECHO, "
        "SET, GET, DEL, EXISTS, INCR."
    ),
)

WRONG_ARITY = "-ERR wrong number of arguments for '{}' command\r\n"


def _call(fn: Any, store: dict, args: List[bytes]) -> Any:
    shown = "[" + ", ".join(show_bytes(a, 24) for a in args) + "]"
    try:
        reply = call_with_timeout(
            fn, store, args, timeout=STUCK, call=f"handle_command(store, {shown})"
        )
    except (CheckFailed, NotImplementedError):
        raise  # the report shows an unwritten exercise as "not written yet"
    except Exception as exc:
        raise CheckFailed(
            f"handle_command(store, {shown}) raised {type(exc).__name__}: {exc}",
            expected="a reply: an error reply (-ERR ...) for a bad command, never an exception",
            hint="a server must not crash on a client's mistake: answer it with an error reply",
            cause=f"raises {type(exc).__name__}",
        ) from None
    if isinstance(reply, str):
        raise CheckFailed(
            f"handle_command(store, {shown}) returned a str: {reply!r}",
            expected="bytes: the exact bytes to send, e.g. b'+PONG\\r\\n'",
            hint="sockets carry bytes: build replies as bytes (b'+OK\\r\\n'), not str",
            cause="returns str",
        )
    if not isinstance(reply, bytes):
        raise CheckFailed(
            f"handle_command(store, {shown}) returned {type(reply).__name__}: {reply!r}",
            expected="bytes",
            cause="type",
        )
    return reply


def _expect_replies(fn: Any, steps: List[tuple], hint: str, store: dict = None) -> None:
    """Run each (args, expected reply) on one store."""
    store = {} if store is None else store
    for args, expected in steps:
        got = _call(fn, store, args)
        if got != expected:
            shown = "[" + ", ".join(show_bytes(a, 24) for a in args) + "]"
            specific = hint
            if got.rstrip(b"\r\n") == expected.rstrip(b"\r\n"):
                specific = (
                    "every RESP reply ends with '\\r\\n' (b'+OK\\r\\n', b':1\\r\\n', "
                    "b'$5\\r\\nhello\\r\\n')"
                )
            raise CheckFailed(
                f"handle_command(store, {shown}) returned {show_bytes(got, 80)}",
                sent=" then ".join(
                    "[" + ", ".join(show_bytes(a, 16) for a in a_) + "]"
                    for a_, _ in steps[: steps.index((args, expected)) + 1][-4:]
                ),
                got=show_bytes(got, 120),
                expected=show_bytes(expected, 120),
                hint=specific,
            )


@handle_command.check("PING and ECHO")
def _(fn):
    _expect_replies(
        fn,
        [
            ([b"PING"], b"+PONG\r\n"),
            ([b"PING", b"hi there"], b"$8\r\nhi there\r\n"),
            ([b"ECHO", "Grüße".encode()], b"$7\r\nGr\xc3\xbc\xc3\x9fe\r\n"),
        ],
        hint=(
            "PING answers the simple string +PONG; PING msg and ECHO msg answer msg as a bulk "
            "string: $<byte count>\\r\\n<bytes>\\r\\n"
        ),
    )


@handle_command.check("SET then GET; GET of a missing key is the null bulk $-1")
def _(fn):
    _expect_replies(
        fn,
        [
            ([b"GET", b"nothing"], b"$-1\r\n"),
            ([b"SET", b"k", b"hello"], b"+OK\r\n"),
            ([b"GET", b"k"], b"$5\r\nhello\r\n"),
            ([b"SET", b"k", b""], b"+OK\r\n"),
            ([b"GET", b"k"], b"$0\r\n\r\n"),
        ],
        hint=(
            "a missing key is the null bulk string b'$-1\\r\\n' (not +nil, not $0, which is an "
            "empty string)"
        ),
    )


@handle_command.check("keys and values are binary-safe bytes")
def _(fn):
    key, value = b"\x00k\xff", "a\r\nb日本".encode() + bytes(range(256))
    _expect_replies(
        fn,
        [
            ([b"SET", key, value], b"+OK\r\n"),
            ([b"GET", key], b"$%d\r\n%b\r\n" % (len(value), value)),
            ([b"GET", b"\x00k"], b"$-1\r\n"),
        ],
        hint=(
            "store the bytes as they came, and count bytes for the $ length: len(value), no "
            "decoding"
        ),
    )


@handle_command.check("command names are case-insensitive")
def _(fn):
    _expect_replies(
        fn,
        [
            ([b"set", b"Key", b"v"], b"+OK\r\n"),
            ([b"GeT", b"Key"], b"$1\r\nv\r\n"),
            ([b"get", b"key"], b"$-1\r\n"),
            ([b"ping"], b"+PONG\r\n"),
        ],
        hint="compare args[0].upper() with the command names; keys stay case-sensitive",
    )


@handle_command.check("DEL and EXISTS count keys (EXISTS k k counts k twice)")
def _(fn):
    _expect_replies(
        fn,
        [
            ([b"SET", b"a", b"1"], b"+OK\r\n"),
            ([b"SET", b"b", b"2"], b"+OK\r\n"),
            ([b"EXISTS", b"a", b"a", b"zz"], b":2\r\n"),
            ([b"DEL", b"a", b"zz", b"a"], b":1\r\n"),
            ([b"EXISTS", b"a", b"b"], b":1\r\n"),
            ([b"DEL", b"zz"], b":0\r\n"),
        ],
        hint=(
            "DEL answers how many keys it removed, EXISTS how many of its arguments exist, as an "
            "integer :n\\r\\n"
        ),
    )


@handle_command.check("INCR counts up from 0 and stores the number as bytes")
def _(fn):
    _expect_replies(
        fn,
        [
            ([b"INCR", b"n"], b":1\r\n"),
            ([b"INCR", b"n"], b":2\r\n"),
            ([b"GET", b"n"], b"$1\r\n2\r\n"),
            ([b"SET", b"m", b"-5"], b"+OK\r\n"),
            ([b"INCR", b"m"], b":-4\r\n"),
            ([b"SET", b"m", b"9223372036854775806"], b"+OK\r\n"),
            ([b"INCR", b"m"], b":9223372036854775807\r\n"),
        ],
        hint=(
            "INCR on a missing key starts from 0; store the result as bytes (b'2') so GET returns "
            "it"
        ),
    )


@handle_command.check("INCR accepts only numbers written the way Redis writes them")
def _(fn):
    bad = b"-ERR value is not an integer or out of range\r\n"
    for value in (
        b"abc",
        b"",
        b"+1",
        b"01",
        b" 1",
        b"1 ",
        b"1_0",
        b"-0",
        b"1.5",
        b"9223372036854775808",
    ):
        _expect_replies(
            fn,
            [([b"SET", b"v", value], b"+OK\r\n"), ([b"INCR", b"v"], bad)],
            hint="Redis takes only canonical 64-bit decimals: no '+', no leading zeros, no spaces, "
            "no '_', no '-0' "
            "(int() accepts several of these: check that b'%d' % int(value) == value)",
        )
    _expect_replies(
        fn,
        [
            ([b"SET", b"v", b"9223372036854775807"], b"+OK\r\n"),
            ([b"INCR", b"v"], b"-ERR increment or decrement would overflow\r\n"),
        ],
        hint="Redis numbers are 64-bit: 9223372036854775807 + 1 overflows",
    )


@handle_command.check("a wrong number of arguments gets Redis's error, never an exception")
def _(fn):
    cases = [
        ([b"GET"], "get"),
        ([b"GET", b"a", b"b"], "get"),
        ([b"SET", b"k"], "set"),
        ([b"DEL"], "del"),
        ([b"EXISTS"], "exists"),
        ([b"INCR"], "incr"),
        ([b"incr", b"a", b"b"], "incr"),
        ([b"ECHO"], "echo"),
        ([b"PING", b"a", b"b"], "ping"),
    ]
    for args, name in cases:
        _expect_replies(
            fn,
            [(args, WRONG_ARITY.format(name).encode())],
            hint="count the arguments before using them; the error names the command in lower case",
        )
    _expect_replies(
        fn,
        [([b"SET", b"k", b"v", b"extra"], b"-ERR syntax error\r\n")],
        hint="SET with arguments after the value answers -ERR syntax error",
    )


@handle_command.check("an unknown command gets Redis 7's error, its arguments quoted and cut")
def _(fn):
    cases = [
        [b"FOO"],
        [b"foo", b"bar", b"baz"],
        [b"HELO", b"3"],
        [b"GETT", b"a\r\nb", b"c\nd"],
        [b"X" * 200, b"y"],
        [b"NOPE"] + [b"%02d-" % i + b"a" * 20 for i in range(12)],
        [b"NOPE", b"b" * 300, b"c"],
        [b"NOPE", b"b" * 126, b"cdef"],
    ]
    for args in cases:
        _expect_replies(
            fn,
            [(args, unknown_command_error(args))],
            hint="-ERR unknown command 'NAME', with args beginning with: then 'arg' and a space "
            "for each argument while the list is under 128 bytes, the last one cut so the list "
            "reaches 128; '\\r' and '\\n' become spaces",
        )


register(handle_command)
