"""Feeding a learner's ``RespReader`` and judging what comes back, for the checks in
:mod:`tcplessons.exercises.resp`.

Every run of feeds gets a fresh reader, is judged by progress (a feed() that does not
return for ``STUCK`` seconds is a hang, a slow one is waited for), and every failure's
hint names the simplest input the reader gets wrong, so the real mistake is named once.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from .model import CheckFailed
from .tools import LearnerCall, call_with_timeout, show_bytes

#: A feed() that has not returned after this long is stuck (a bound for a hang, not a speed
#: target: a correct reader returns in milliseconds even on a loaded machine).
STUCK = 20.0
#: A whole run of feeds may take this long, as long as feeds keep returning.
PATIENCE = 300.0


def encode(*args: bytes) -> bytes:
    """A command as clients send it: an array of bulk strings."""
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%b\r\n" % (len(a), a) for a in args)


# -- RespReader -------------------------------------------------------------------------------

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


def _show_feeds(pieces: list[bytes], limit: int = 4) -> str:
    shown = ", ".join(show_bytes(p, 48) for p in pieces[:limit])
    more = f", … ({len(pieces)} feeds)" if len(pieces) > limit else ""
    return f"feed({shown})" if len(pieces) == 1 else f"feeds: {shown}{more}"


def _run_feeds(cls: Any, pieces: list[bytes], what: str) -> list[Any]:
    """Feed a fresh ``cls()`` each piece; return what each feed returned (or the exception).

    Judged by progress, not speed: only a feed() that does not return for ``STUCK``
    seconds is a hang; a slow but moving reader is waited for (up to ``PATIENCE``).
    """
    _require_own_state(cls)
    done = [0]
    lock = threading.Lock()

    def run() -> list[Any]:
        reader, results = cls(), []
        for piece in pieces:
            try:
                results.append(reader.feed(piece))
            except NotImplementedError:
                raise  # the stub: the report says "not written yet"
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

    def alone() -> list[Any]:
        first = cls()
        result = [first.feed(b"*1\r\n$4\r\nPI"), first.feed(b"NG\r\n")]
        return result + [cls().feed(encode(b"ECHO", b"b"))]

    def two_readers() -> list[Any]:
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


def _check_shape(result: Any, pieces: list[bytes]) -> None:
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


def _commands(results: list[Any]) -> list[list[bytes]]:
    found: list[list[bytes]] = []
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

        def run(pieces: list[bytes] = pieces) -> list[Any]:
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
    cls: Any, pieces: list[bytes], expected: list[list[bytes]], what: str, hint: str
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


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


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
