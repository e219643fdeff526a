"""Checks for lesson 08's ``handle_command(store, args)``: reply by reply, the bytes the
real ``redis-server`` 7 sends for the same command."""

from __future__ import annotations

from typing import Any

from ..redis_commands import unknown_command_error
from .model import CheckFailed, Exercise
from .registry import register
from .tools import call_with_timeout, show_bytes

__all__ = ["handle_command"]

LESSON = "08-mini-redis"
#: A call that has not returned after this long is stuck (a bound for a hang: a correct
#: handle_command returns in microseconds, even on a loaded machine).
STUCK = 20.0

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


def _show_args(args: list[bytes], limit: int = 48) -> str:
    """The arguments, short ones whole; after five of them only how many there are."""
    shown = [show_bytes(a, limit) for a in args[:5]]
    if len(args) > 5:
        shown.append(f"… ({len(args)} arguments)")
    return "[" + ", ".join(shown) + "]"


def _crash_hint(exc: Exception, expected: bytes) -> str:
    """Name the real mistake behind an exception on a given command."""
    if expected.startswith(b"-"):
        return "a server must not crash on a client's mistake: answer it with an error reply"
    if isinstance(exc, UnicodeError):
        return "keys and values are any bytes, not UTF-8 text: keep them as bytes, never decode"
    return (
        "this is a well-formed command: the line shown raised; keep keys and values as bytes "
        "in the store (INCR stores b'2', not 2)"
    )


def _call(fn: Any, store: dict, args: list[bytes], expected: bytes = b"") -> Any:
    shown = _show_args(args)
    try:
        reply = call_with_timeout(
            fn, store, args, timeout=STUCK, call=f"handle_command(store, {shown})"
        )
    except (CheckFailed, NotImplementedError):
        raise  # the report shows an unwritten exercise as "not written yet"
    except Exception as exc:
        hint = _crash_hint(exc, expected)
        raise CheckFailed(
            f"handle_command(store, {shown}) raised {type(exc).__name__}: {exc}",
            expected=f"the reply {show_bytes(expected, 80)}, never an exception"
            if expected
            else "a reply, never an exception",
            hint=hint,
            cause=f"raises {type(exc).__name__}: {hint}",
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


def _difference(got: bytes, expected: bytes) -> tuple:
    """``got`` and ``expected`` shown whole when short, else around their first difference."""
    if len(got) <= 160 and len(expected) <= 160:
        return repr(got), repr(expected)
    first = next(
        (i for i, (g, e) in enumerate(zip(got, expected, strict=False)) if g != e),
        min(len(got), len(expected)),
    )
    start = max(0, first - 40)

    def around(data: bytes) -> str:
        part = repr(data[start : first + 60])
        before = f"… {start} bytes, then " if start else ""
        after = f" … ({len(data)} bytes in all)" if first + 60 < len(data) else ""
        return before + part + after

    return around(got) + f" [first difference at byte {first}]", around(expected)


NULL_HINT = (
    "a missing key is the null bulk string b'$-1\\r\\n' (not +nil, not $0, which is an "
    "empty string)"
)
CASE_HINT = "compare args[0].upper() with the command names; keys stay case-sensitive"


def _hint_for(args: list[bytes], got: bytes, expected: bytes, hint: str) -> str:
    """The hint for what actually came back: the real mistake, not the check's topic."""
    if got.rstrip(b"\r\n") == expected.rstrip(b"\r\n"):
        return (
            "every RESP reply ends with '\\r\\n' "
            "(b'+OK\\r\\n', b':1\\r\\n', b'$5\\r\\nhello\\r\\n')"
        )
    if expected == b"$-1\r\n" and got != expected and not got.startswith(b"-"):
        return NULL_HINT
    unknown = b"-ERR unknown command"
    if got.startswith(unknown) and not expected.startswith(unknown):
        if args[0] != args[0].upper():
            return CASE_HINT
    if expected.startswith(unknown) and got.lower() == expected.lower():
        return (
            "show the command name as the client sent it ('foo' stays 'foo'); only the "
            "lookup is case-insensitive"
        )
    if expected == b"-ERR value is not an integer or out of range\r\n" and got.startswith(
        b"-ERR increment"
    ):
        return (
            "a stored value outside -9223372036854775808..9223372036854775807 is not a 64-bit "
            "integer: 'value is not an integer or out of range'; only INCR of "
            "9223372036854775807 itself overflows"
        )
    return hint


def _expect_replies(fn: Any, steps: list[tuple], hint: str, store: dict = None) -> None:
    """Run each (args, expected reply) on one store (a fresh one unless given)."""
    _require_given_store(fn)
    store = {} if store is None else store
    for number, (args, expected) in enumerate(steps):
        got = _call(fn, store, args, expected)
        if got != expected:
            specific = _hint_for(args, got, expected, hint)
            got_text, expected_text = _difference(got, expected)
            raise CheckFailed(
                f"handle_command(store, {_show_args(args)}) returned {show_bytes(got, 80)}",
                sent=" then ".join(_show_args(a_, 24) for a_, _ in steps[: number + 1][-4:]),
                got=got_text,
                expected=expected_text,
                hint=specific,
                cause=specific,
            )


STORE_HINT = (
    "use the store you are given: handle_command(store, args) reads and changes that dict "
    "(store[key] = value), never a dict of its own"
)


def _require_given_store(fn: Any) -> None:
    """Fail the same way in every check when handle_command ignores its ``store``.

    A handler with a dict of its own answers from what earlier checks left there, so its
    other verdicts would change from run to run; the report names only this cause.
    """
    store = {b"given:key": b"given value"}
    try:
        got = call_with_timeout(fn, store, [b"GET", b"given:key"], timeout=STUCK)
        call_with_timeout(fn, store, [b"SET", b"given:new", b"v"], timeout=STUCK)
    except Exception:
        return  # each check reports crashes with the command that caused them
    if got != b"$11\r\ngiven value\r\n" and isinstance(got, bytes) and got.startswith(b"$"):
        problem = f"GET of a key that is in the store answered {show_bytes(got, 40)}"
    elif b"given:new" not in store and got == b"$11\r\ngiven value\r\n":
        problem = "SET left the store it was given unchanged"
    else:
        return
    raise CheckFailed(
        problem,
        sent="handle_command({b'given:key': b'given value'}, [b'GET', b'given:key']), then "
        "[b'SET', b'given:new', b'v'] on the same store",
        expected="b'$11\\r\\ngiven value\\r\\n', and the store then holding b'given:new'",
        hint=STORE_HINT,
        cause="ignores store",
    )


@handle_command.check("uses the store it is given: what is there, and what SET, DEL, INCR leave")
def _(fn):
    store = {b"greeting": b"hello", b"visits": b"41", b"old": b"x"}
    _expect_replies(
        fn,
        [
            ([b"GET", b"greeting"], b"$5\r\nhello\r\n"),
            ([b"INCR", b"visits"], b":42\r\n"),
            ([b"SET", b"color", b"blue"], b"+OK\r\n"),
            ([b"DEL", b"old"], b":1\r\n"),
        ],
        hint=STORE_HINT,
        store=store,
    )
    wanted = {b"greeting": b"hello", b"visits": b"42", b"color": b"blue"}
    if store != wanted:
        raise CheckFailed(
            "after GET greeting, INCR visits, SET color blue, DEL old the store is wrong",
            got=repr(store),
            expected=repr(wanted),
            hint="keep keys and values in the store as bytes: SET stores the value as it "
            "came, INCR stores the new number as bytes (b'42'), DEL removes the key",
            cause="store contents",
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
        hint=NULL_HINT,
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
        hint=CASE_HINT,
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
        hint="in this exercise SET takes exactly a key and a value: any argument after the value "
        "answers -ERR syntax error (real Redis would also accept options such as NX or EX)",
    )


UNKNOWN_HINT = (
    "-ERR unknown command 'NAME', with args beginning with: , where NAME is the name as the "
    "client sent it, cut to 128 bytes; then, while the list built so far is shorter than 128 "
    "bytes, add the next argument cut to (128 - length of the list so far) bytes, in quotes "
    "and followed by a space (so the list may end up a little over 128 bytes); finally '\\r' "
    "and '\\n' become spaces"
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
            hint=UNKNOWN_HINT,
        )


register(handle_command)
