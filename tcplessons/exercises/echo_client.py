"""Checks for lesson 03's ``echo_client(address, message)``: send, shut down, read the reply.

Every check uses real sockets on 127.0.0.1 and bounded waits, so a wrong answer fails in
seconds.  Each check calls a test server of its own
(:mod:`tcplessons.exercises._echo_servers`), never a plain echo, and a
:class:`SocketWatch` sees the socket ``echo_client`` opens itself (its ``send()`` writes 3
bytes at a time in one check, and its ``shutdown()`` is seen).  The hint texts are in
:mod:`tcplessons.exercises._echo_hints`; lesson 03's other exercise, ``handle_echo``, is
checked in :mod:`tcplessons.exercises.echo`.
"""

from __future__ import annotations

import errno
import socket
import threading

from ._echo_hints import (
    KEEP_READING_HINT,
    LESSON,
    PAUSE_HINT,
    SENDALL_HINT,
    SHUT_RDWR_HINT,
    SHUTDOWN_HINT,
)
from ._echo_servers import (
    AFTER_EOF_SERVER,
    LOUD_SERVER,
    _after_eof_reply,
    _answer_after,
    _answer_after_eof,
    _loud_echo,
    _one_call_server,
    _read_until_eof,
    _received,
)
from .model import CheckFailed, Exercise
from .registry import register
from .tools import CALL_TIMEOUT, LearnerCall, SocketWatch, pause_for, show_bytes

__all__ = ["echo_client_exercise"]

echo_client_exercise = Exercise(
    "echo_client",
    lesson=LESSON,
    summary="echo_client(address, message): send message as UTF-8, shut down the write side, "
    "read the reply until the server hangs up, return it decoded.",
)

REPLY_HINT = (
    "return what the server sends back, not the message you were given: keep calling recv() "
    "until it returns b'' (the server hung up), join the pieces, and decode them"
)


def _judge_reply(
    got: str, message: str, expected: str, server: str, hint: str = KEEP_READING_HINT
) -> None:
    if type(got) is str and got == expected:
        return
    if got == message:
        what, hint = (
            "echo_client returned the message it was given, not the server's reply",
            REPLY_HINT,
        )
    else:
        what = "echo_client returned something other than the server's reply"
    raise CheckFailed(
        what,
        sent=f"{message!r} {server}",
        got=_partial(got, expected),
        expected=repr(expected),
        hint=hint,
    )


def _is_bad_descriptor(exc: OSError) -> bool:
    return exc.errno == errno.EBADF or getattr(exc, "winerror", None) == 10038


def _call_client(fn, address, message: str, *, watch: SocketWatch | None = None):
    """Call ``echo_client(address, message)`` with its sockets watched; turn what it
    raised into a failure that names the concept."""
    watch = watch or SocketWatch()
    running = LearnerCall(fn, address, message, watch=watch).start()
    finished = running.join(CALL_TIMEOUT)
    # Decided by what the code did, not by what the race that follows it produced.
    if any(how in (socket.SHUT_RDWR, socket.SHUT_RD) for how in watch.shutdowns):
        raise CheckFailed(
            "echo_client shut down its own reading side as well as its writing side",
            got="shutdown(socket.SHUT_RDWR)"
            if socket.SHUT_RDWR in watch.shutdowns
            else "shutdown(socket.SHUT_RD)",
            expected="shutdown(socket.SHUT_WR)",
            hint=SHUT_RDWR_HINT,
            cause="SHUT_RDWR",
        )
    if not finished:
        raise CheckFailed(
            f"echo_client(address, {message[:20]!r}) did not return within {CALL_TIMEOUT:g} s",
            hint=SHUTDOWN_HINT,
        )
    try:
        result = running.result()
    except TypeError as exc:
        if "bytes-like" in str(exc) or "str" in str(exc):
            raise CheckFailed(
                "echo_client raised TypeError while sending",
                sent=repr(message),
                got=f"TypeError: {exc}",
                hint="sockets carry bytes, not str: send message.encode('utf-8')",
                cause="str",
            ) from None
        raise
    except UnicodeDecodeError:
        raise CheckFailed(
            "echo_client raised UnicodeDecodeError while reading the reply",
            got="UnicodeDecodeError (a character was split between two reads)",
            hint="a character can be split across two recv() calls: join all the bytes and decode "
            "once at the end (or use codecs.getincrementaldecoder('utf-8'))",
        ) from None
    except (BrokenPipeError, ConnectionAbortedError) as exc:
        if not watch.shutdowns:
            raise
        raise CheckFailed(
            f"echo_client raised {type(exc).__name__} while sending",
            got=f"{type(exc).__name__}: sending after shutdown(socket.SHUT_WR)",
            hint="shut down the write side after sendall(), not before: shutdown(SHUT_WR) means "
            '"I have finished sending", and nothing can be sent after it',
            cause="shutdown before send",
        ) from None
    except (TimeoutError, BlockingIOError) as exc:
        raise CheckFailed(
            f"echo_client raised {type(exc).__name__} while waiting for the reply",
            hint=PAUSE_HINT
            + "; give the socket a timeout only as a safety net (seconds, not less)",
        ) from None
    except OSError as exc:
        if _is_bad_descriptor(exc):
            raise CheckFailed(
                "echo_client used its socket after closing it",
                got="OSError: Bad file descriptor",
                hint='close() ends the socket for good: to say "I have finished sending" use '
                "sock.shutdown(socket.SHUT_WR), read the reply, and close only at the end "
                "(a `with` block closes it for you)",
                cause="closed",
            ) from None
        raise
    if type(result) is not str:
        raise CheckFailed(
            f"echo_client returned a {type(result).__name__}, not text",
            got=show_bytes(result)
            if isinstance(result, (bytes, bytearray))
            else type(result).__name__,
            hint="decode the reply's bytes with .decode('utf-8') before returning it"
            if isinstance(result, (bytes, bytearray))
            else "return the reply as a plain str",
            cause="not str",
        )
    return result


@echo_client_exercise.check("sends the message and returns the server's reply, as text")
def _returns_the_reply(fn):
    message = "Hello, echo server!"
    with _one_call_server(lambda conn, seen: _loud_echo(conn, seen, len(message))) as (
        address,
        seen,
    ):
        got = _call_client(fn, address, message)
    _judge_reply(got, message, message.upper(), LOUD_SERVER)


@echo_client_exercise.check("tells the server it has finished sending (shuts down the write side)")
def _shuts_down_the_write_side(fn):
    message = "Is anybody there?"
    # This server answers only once it sees b"" (the caller's shutdown), like many do.
    with _one_call_server(_answer_after_eof) as (address, seen):
        got = _call_client(fn, address, message)
    _judge_reply(got, message, _after_eof_reply(message.encode()).decode(), AFTER_EOF_SERVER)


@echo_client_exercise.check("sends the text encoded as UTF-8 (é, 日本, 🙂)")
def _sends_utf8(fn):
    message = "héllo, 日本 🙂"
    with _one_call_server(_answer_after(message)) as (address, seen):
        got = _call_client(fn, address, message)
        received = _received(seen)
    if received != message.encode("utf-8"):
        raise CheckFailed(
            "the server did not receive the message's UTF-8 bytes",
            sent=repr(message),
            got=show_bytes(received),
            expected=show_bytes(message.encode("utf-8")),
            hint="encode the text with message.encode('utf-8') and send it all with sendall()",
        )
    _judge_reply(got, message, _after_eof_reply(received).decode("utf-8"), AFTER_EOF_SERVER)


@echo_client_exercise.check("sends every byte even when send() writes only part of it")
def _sends_everything(fn):
    message = "a message long enough to need several send() calls: " + "la " * 40
    with _one_call_server(_answer_after(message)) as (address, seen):
        got = _call_client(fn, address, message, watch=SocketWatch(short_send=True))
        received = _received(seen)
    if received != message.encode("utf-8"):
        raise CheckFailed(
            "the server received only part of the message",
            sent=f"{message[:30]!r}… ({len(message)} bytes), where send() writes 3 bytes at a time",
            got=f"the first {len(received)} bytes"
            if received and message.encode().startswith(received)
            else show_bytes(received),
            expected=f"all {len(message)} bytes",
            hint=SENDALL_HINT,
        )
    _judge_reply(got, message, _after_eof_reply(received).decode("utf-8"), AFTER_EOF_SERVER)


def _partial(got, want: str) -> str:
    """What came back, in words that do not depend on timing."""
    if type(got) is str and len(got) < len(want) and want.startswith(got):
        return "the first part of the reply only"
    return repr(got[:60]) if isinstance(got, str) else type(got).__name__


#: A reply whose first character is split from the rest, then a long multi-byte tail.
LONG_REPLY = "é" + ("日本語 and text, " * 6000)


@echo_client_exercise.check("reads the whole reply, however it is split, and decodes it at the end")
def _reads_the_whole_reply(fn):
    reply = LONG_REPLY.encode("utf-8")

    def answer_in_pieces(conn: socket.socket, seen: dict) -> None:
        _read_until_eof(conn, seen, limit=len(b"send me something long"))
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.sendall(reply[:1])  # half of "é": a reader that decodes each recv() fails here
        for start in range(1, 1001, 5):
            conn.sendall(reply[start : start + 5])
        for start in range(1001, len(reply), 4096):
            conn.sendall(reply[start : start + 4096])

    with _one_call_server(answer_in_pieces) as (address, seen):
        got = _call_client(fn, address, "send me something long")
    if type(got) is not str or got != LONG_REPLY:
        # Which piece a wrong client stumbles on depends on timing; the report does not.
        raise CheckFailed(
            "echo_client did not return the whole reply",
            sent="'send me something long' to a test server that replies with a long text of its "
            "own (not an echo)",
            expected=f"{LONG_REPLY[:30]!r}… ({len(reply)} bytes in pieces of 1, 5 and 4096)",
            hint="recv() returns whatever has arrived — TCP is a stream; keep calling recv() until it "
            "returns b'' (the server hung up), join the pieces, and decode once at the end: a read "
            "may end in the middle of a character",
        )


@echo_client_exercise.check("waits through a pause in the middle of the reply")
def _waits_through_a_pause(fn):
    message = "take your time"
    reply = "first part of the reply, ... and, after a pause, the rest"
    watch = SocketWatch()

    def answer_with_a_pause(conn: socket.socket, seen: dict) -> None:
        _read_until_eof(conn, seen, limit=len(message.encode()))
        conn.sendall(reply[:24].encode())
        # As long as the learner's own socket timeout and more: a pause is not the end.
        threading.Event().wait(pause_for(*watch.timeouts()))
        conn.sendall(reply[24:].encode())

    with _one_call_server(answer_with_a_pause) as (address, seen):
        got = _call_client(fn, address, message, watch=watch)
    _judge_reply(
        got,
        message,
        reply,
        "to a test server that sends half its reply, pauses, then sends the rest",
        hint=PAUSE_HINT,
    )


register(echo_client_exercise)
