"""Checks for lesson 08's ``RespReader``: sans-IO like lesson 04's ``LineReader``.

The checks feed it the bytes real clients send (redis-py, redis-cli, redis-benchmark, a
person in ``nc``), split in every awkward place, and hostile bytes; each verdict follows
the exercise's contract and, where the contract is silent, what ``redis-server`` 7 does.
"""

from __future__ import annotations

import threading
import time
from typing import Any, List

from .model import CheckFailed, Exercise
from .registry import register
from .tools import LearnerCall, call_with_timeout, show_bytes

__all__ = ["RespReader", "encode"]

LESSON = "08-mini-redis"
#: A feed() that has not returned after this long is stuck (a bound for a hang, not a speed
#: target: a correct reader returns in milliseconds even on a loaded machine).
STUCK = 20.0
#: A whole run of feeds may take this long, as long as feeds keep returning.
PATIENCE = 300.0


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


def _run_feeds(cls: Any, pieces: List[bytes], what: str) -> List[Any]:
    """Feed a fresh ``cls()`` each piece; return what each feed returned (or the exception).

    Judged by progress, not speed: only a feed() that does not return for ``STUCK``
    seconds is a hang; a slow but moving reader is waited for (up to ``PATIENCE``).
    """
    _require_own_state(cls)
    done = [0]
    lock = threading.Lock()

    def run() -> List[Any]:
        reader, results = cls(), []
        for piece in pieces:
            try:
                results.append(reader.feed(piece))
            except Exception as exc:  # judged by the caller: a protocol error, or a crash
                results.append(exc)
                break
            with lock:
                done[0] += 1
        return results

    running = LearnerCall(run).start()
    started = time.monotonic()
    seen, seen_at = 0, started
    while not running.join(0.5):
        now = time.monotonic()
        with lock:
            count = done[0]
        if count != seen:
            seen, seen_at = count, now
        if now - seen_at > STUCK:
            raise CheckFailed(
                f"feeding RespReader {what}: feed() did not return for {STUCK:g} s "
                f"(after {seen} of {len(pieces)} feeds)",
                sent=_show_feeds(pieces),
                hint="feed() must return once it has used the bytes it has: does a loop in it "
                "never end when the buffer holds only part of a command?",
                cause="feed never returns",
            )
        if now - started > PATIENCE:
            raise CheckFailed(
                f"feeding RespReader {what}: too slow, {seen} of {len(pieces)} feeds done "
                f"after {PATIENCE:g} s",
                sent=_show_feeds(pieces),
                hint="each feed() should cost about as much as the bytes it is given: do not "
                "re-read or copy the whole buffer for every command",
                cause="too slow",
            )
    results = running.result()
    for result in results:
        if not isinstance(result, BaseException):
            _check_shape(result, pieces)
    return results


SHARED_HINT = (
    "keep the buffer in self (set it up in __init__), not in a class attribute or a global: "
    "every client has its own RespReader"
)
_MUTABLE = (list, bytearray, dict, set)


def _require_own_state(cls: Any) -> None:
    """Fail at once, the same way in every check, when readers share their buffer.

    A shared buffer makes every other verdict depend on what ran before, so the report
    names only this cause.
    """
    try:
        fresh = cls()
    except Exception:
        return  # reported by the check itself, as what the learner's code raised
    own = getattr(fresh, "__dict__", {})
    for klass in getattr(cls, "__mro__", (cls,)):
        if klass is object:
            continue
        for name, value in vars(klass).items():
            if isinstance(value, _MUTABLE) and name not in own and not name.startswith("__"):
                raise CheckFailed(
                    f"{cls.__name__}.{name} is a {type(value).__name__} kept in the class, "
                    "so every RespReader shares it",
                    expected="each RespReader keeps its own unfinished command",
                    hint=SHARED_HINT,
                    cause="shared state",
                )

    def alone() -> List[Any]:
        first = cls()
        result = [first.feed(b"*1\r\n$4\r\nPI"), first.feed(b"NG\r\n")]
        return result + [cls().feed(encode(b"ECHO", b"b"))]

    def two_readers() -> List[Any]:
        first, second = cls(), cls()
        return [
            first.feed(b"*1\r\n$4\r\nPI"),
            second.feed(encode(b"ECHO", b"b")),
            first.feed(b"NG\r\n"),
        ]

    try:  # only a reader that works alone can be judged on sharing
        if _plain(call_with_timeout(alone, timeout=STUCK)) != [
            [],
            [[b"PING"]],
            [[b"ECHO", b"b"]],
        ]:
            return
    except Exception:
        return
    try:
        got = _plain(call_with_timeout(two_readers, timeout=STUCK, call="two RespReaders"))
    except (ValueError, EOFError) as exc:
        got = f"{type(exc).__name__}: {exc}"
    except Exception:
        return  # a hang or a crash: each check reports it with its own bytes
    if got != [[], [[b"ECHO", b"b"]], [[b"PING"]]]:
        raise CheckFailed(
            "two RespReaders mixed up their commands",
            sent="first.feed(b'*1\\r\\n$4\\r\\nPI'); second.feed(ECHO b); first.feed(b'NG\\r\\n')",
            got=repr(got) if isinstance(got, list) else got,
            expected="[[], [[b'ECHO', b'b']], [[b'PING']]]",
            hint=SHARED_HINT,
            cause="shared state",
        )


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _plain(results: Any) -> Any:
    """``results`` with every argument as bytes, when it has the right shape at all."""
    try:
        return [[[bytes(arg) for arg in command] for command in result] for result in results]
    except TypeError:
        return results


def _check_shape(result: Any, pieces: List[bytes]) -> None:
    if not isinstance(result, list) or not all(isinstance(c, list) for c in result):
        raise CheckFailed(
            f"feed() returned {_shorten(repr(result))}",
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
        if isinstance(result, (ValueError, EOFError)):
            raise CheckFailed(
                f"feed() raised {type(result).__name__}: {result}",
                expected="no error: these are well-formed commands",
                hint=WELL_FORMED_HINT,
            )
        if isinstance(result, BaseException):
            raise result  # the report names the learner's line that raised it
        found += result
    return found


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _show_command(command: Any) -> str:
    """A command as a short, readable list: long arguments cut, never the short ones."""
    if not isinstance(command, list):
        return repr(command)
    shown = [show_bytes(arg, 40) if isinstance(arg, bytes) else repr(arg) for arg in command[:6]]
    more = f", … ({len(command)} arguments)" if len(command) > 6 else ""
    return "[" + ", ".join(shown) + more + "]"


# The simplest inputs first: the first one a reader gets wrong names its real mistake.
ONE_COMMAND_HINT = (
    "*3 says three bulk strings follow; each $N says the next N bytes are one argument"
)
EMPTY_HINT = "$0\\r\\n\\r\\n is an empty argument b'': zero bytes, then the '\\r\\n' that ends it"
INLINE_HINT = (
    "a line that does not start with '*' is an inline command: words separated by spaces or "
    "tabs, ending in '\\r\\n' or '\\n'; an empty line is no command"
)
ROOT_CAUSES = [
    (
        [encode(b"SET", b"greeting", b"hello")],
        [[b"SET", b"greeting", b"hello"]],
        ONE_COMMAND_HINT,
    ),
    ([encode(b"SET", b"k", b"")], [[b"SET", b"k", b""]], EMPTY_HINT),
    (
        [encode(b"SET", b"k", "a\r\nü".encode())],
        [[b"SET", b"k", "a\r\nü".encode()]],
        LENGTH_HINT,
    ),
    ([b"PING\r\n"], [[b"PING"]], INLINE_HINT),
    ([encode(b"PING") * 2], [[b"PING"], [b"PING"]], KEEP_HINT),
    ([b"*1\r\n$4\r\nPI", b"NG\r\n"], [[b"PING"]], KEEP_HINT),
]


def _root_cause(cls: Any) -> str:
    """The hint of the simplest input this reader gets wrong ('' if it gets them all)."""
    for pieces, expected, hint in ROOT_CAUSES:

        def run(pieces: List[bytes] = pieces) -> List[Any]:
            reader = cls()
            return [reader.feed(piece) for piece in pieces]

        try:
            got = [
                command
                for result in _plain(call_with_timeout(run, timeout=STUCK))
                for command in result
            ]
        except Exception:
            return hint
        if got != expected:
            return hint
    return ""


def _expect_commands(
    cls: Any, pieces: List[bytes], expected: List[List[bytes]], what: str, hint: str
) -> None:
    try:
        got = _commands(_run_feeds(cls, pieces, what))
    except CheckFailed as failure:
        failure.sent = failure.sent or _show_feeds(pieces)
        if failure.hint == WELL_FORMED_HINT:
            failure.hint = f"{_root_cause(cls) or hint} (only malformed input is a protocol error)"
            failure.cause = failure.hint
        raise
    if got != expected:
        first = next(
            (i for i, (g, e) in enumerate(zip(got, expected, strict=False)) if g != e),
            min(len(got), len(expected)),
        )
        hint = _root_cause(cls) or hint
        if first < len(got) and first < len(expected):
            what = f"fed {what}, command {first + 1} came out wrong"
            got_text, expected_text = (
                _show_command(got[first]),
                _show_command(expected[first]),
            )
        else:
            what = f"fed {what}, got {_plural(len(got), 'command')}, expected {len(expected)}"
            if first < len(expected):
                got_text = "nothing more"
                expected_text = f"command {first + 1}: {_show_command(expected[first])}"
            else:
                got_text = f"an extra command {first + 1}: {_show_command(got[first])}"
                expected_text = "nothing more"
            if first:
                got_text = f"{_plural(first, 'command')} right, then {got_text}"
        raise CheckFailed(
            what,
            sent=_show_feeds(pieces),
            got=got_text,
            expected=expected_text,
            hint=hint,
            cause=hint,
        )


def _pieces(data: bytes, size: int) -> List[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


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


def _expect_protocol_error(cls: Any, data: bytes, what: str, hint: str = PROTOCOL_HINT) -> None:
    results = _run_feeds(cls, [data], what)
    last = results[-1] if results else None
    if isinstance(last, Exception) and not isinstance(last, (ValueError, EOFError)):
        raise CheckFailed(
            f"fed {what}, feed() raised {type(last).__name__}: {last}",
            sent=_show_feeds([data]),
            expected="ValueError('Protocol error: ...')",
            hint="raise ValueError, or a subclass of it (class ProtocolError(ValueError)): the "
            "server catches ValueError to answer -ERR Protocol error and hang up",
            cause="exception class",
        )
    if not isinstance(last, ValueError):
        raise CheckFailed(
            f"fed {what}, feed() returned {_shorten(repr(last))}"
            if not isinstance(last, BaseException)
            else f"fed {what}, feed() raised {last!r}",
            sent=_show_feeds([data]),
            expected="ValueError('Protocol error: ...')",
            hint=hint,
            cause=f"no protocol error: {hint}",
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


def _expect_bounded(cls: Any, start: bytes, fill: bytes, what: str, hint: str) -> None:
    """``start`` then 1 MiB of ``fill`` with no newline must raise before about 128 KiB."""
    pieces = [start + fill * 4096] + [fill * 4096] * 255
    results = _run_feeds(cls, pieces, what)
    last = results[-1] if results else None
    if not isinstance(last, ValueError) or not str(last).startswith("Protocol error:"):
        raise CheckFailed(
            f"fed {what}: 1 MiB with no newline was buffered without complaint"
            if not isinstance(last, BaseException)
            else f"fed {what}: raised {last!r}",
            sent=(f"{start!r} then " if start else "")
            + f"1 MiB of {fill!r} in feeds of 4096 bytes, no '\\n'",
            expected="ValueError('Protocol error: ...') once more than 64 KiB wait for their "
            "line's end, as Redis does",
            hint=hint,
            cause=f"unbounded: {hint}",
        )
    fed = 4096 * len(results)
    if fed > 128 * 1024:
        raise CheckFailed(
            f"fed {what}: the protocol error came only after {fed // 1024} KiB",
            expected="an error once more than 64 KiB are waiting for their line's end",
            hint="check the size of the unfinished line on every feed",
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
