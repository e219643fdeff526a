"""Checks for lesson 03 (echo server): ``handle_echo(conn)`` and ``echo_client(address, message)``.

Every check uses real sockets on 127.0.0.1 and bounded waits, so a wrong answer fails in
seconds.  Awkward sockets (:class:`ShortRecvSocket`, :class:`ShortSendSocket`) make the
classic mistakes fail every time, not only on a busy network.
"""

from __future__ import annotations

import contextlib
import select
import selectors
import socket
import threading
import time
from typing import Callable, Dict, Iterator, Optional, Tuple

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

__all__ = ["handle_echo", "echo_client"]

LESSON = "03-echo-server"

#: How long learner code may run in one check before we call it stuck.
STUCK = 1.0

HANGUP_HINT = (
    "recv() returns b'' when the caller hangs up: stop reading then, and close conn "
    "(a `with conn:` block does it for you)"
)
SENDALL_HINT = (
    "send() may write only part of the data and returns how many bytes it wrote; "
    "sendall() keeps going until every byte is sent"
)
KEEP_READING_HINT = (
    "recv() returned only part of the data — TCP is a stream; keep calling recv() "
    "until it returns b'' (the caller hung up)"
)
BYTES_HINT = "the data need not be text: send back exactly the bytes you received, without decoding them"
SHUTDOWN_HINT = (
    "the server waits for the end of your message while you wait for its reply: after "
    "sendall(), call sock.shutdown(socket.SHUT_WR) to say you have finished sending"
)




# -- handle_echo ----------------------------------------------------------------------------

handle_echo = Exercise(
    "handle_echo",
    lesson=LESSON,
    summary="handle_echo(conn): send back every byte received on conn, unchanged, "
    "until the caller hangs up; then close conn.",
)


def _run_echo(
    fn: Callable,
    data: bytes,
    chunk: int,
    *,
    wrap: Optional[Callable[[socket.socket], socket.socket]] = None,
    what: str = "",
) -> None:
    """Send ``data`` in pieces of ``chunk`` bytes to ``fn(conn)``, hang up our write side,
    read the echo at the same time (so large data cannot deadlock), and judge it."""
    with loopback_pair() as (client, server):
        blocking_with_os_timeouts(server)
        conn = wrap(server) if wrap else server
        try:
            echoed: Dict[str, bytes] = {}
            reader = threading.Thread(
                target=lambda: echoed.setdefault("data", recv_until_closed(client)),
                name="tcplessons echo reader",
                daemon=True,
            )
            reader.start()
            sender = send_in_chunks(client, data, chunk, hang_up=True)
            try:
                call_with_timeout(
                    fn, conn, timeout=STUCK, call="handle_echo(conn)",
                    hint=f"it was still running after the caller hung up. {HANGUP_HINT}",
                )
            except UnicodeError as exc:
                raise CheckFailed(
                    f"handle_echo raised {type(exc).__name__}{what}",
                    sent=show_bytes(data),
                    got=f"{type(exc).__name__} (bytes that are not text, or a character split between two reads)",
                    hint=BYTES_HINT,
                ) from None
            sender.join(STUCK)
            reader.join(0.5)  # a handler that closed conn ends the reader at once
            if reader.is_alive():
                raise CheckFailed(
                    "handle_echo returned but never closed conn: the caller is still waiting for the line to go dead",
                    sent=show_bytes(data) + " then hung up",
                    hint="close conn when recv() returns b'' (or put the loop in a `with conn:` block)",
                )
            got = echoed.get("data", b"")
        finally:
            shut_down_and_close(conn)
    if got != data:
        # The text never quotes how many bytes did arrive: that depends on timing, and a
        # report must read the same on every run.
        if len(got) < len(data) and data.startswith(got):
            problem, seen = f"the echo stopped early{what}", "the first part of the data, then the line went dead"
        else:
            problem, seen = f"the echo differs from what was sent{what}", "different bytes"
        raise CheckFailed(problem, sent=show_bytes(data), got=seen, expected=show_bytes(data), hint=KEEP_READING_HINT)


def _short_recv(limit: int) -> Callable[[socket.socket], socket.socket]:
    return lambda sock: ShortRecvSocket.adopt(sock, limit)


@handle_echo.check("sends back a short message and closes the line when the caller hangs up")
def _(fn):
    _run_echo(fn, b"Hello, echo server!\n", 4096)


@handle_echo.check("sends back bytes that are not text (all 256 byte values)")
def _(fn):
    data = bytes(range(256)) * 2
    _run_echo(fn, data, 4096, what=" (binary data)")


@handle_echo.check("sends back data that arrives in pieces of 1, 5 and 4096 bytes")
def _(fn):
    text = "Grüße, 日本, and a long line of text. " * 12
    for chunk in (1, 5, 4096):
        data = (text * (1 if chunk == 1 else 20)).encode()
        # recv() on this socket returns at most 7 bytes: "one recv is one message" fails.
        _run_echo(fn, data, chunk, wrap=_short_recv(7), what=f" (sent in pieces of {chunk} byte{'s' if chunk > 1 else ''})")


@handle_echo.check("sends every byte even when send() writes only part of it")
def _(fn):
    data = b"every byte counts: " + bytes(range(48, 123)) * 4

    def short_send(sock: socket.socket) -> socket.socket:
        return ShortSendSocket.adopt(sock, 3)

    try:
        _run_echo(fn, data, 4096, wrap=short_send, what=" (send() writes 3 bytes at a time here)")
    except CheckFailed as failure:
        if failure.hint == KEEP_READING_HINT:
            failure.hint = SENDALL_HINT
        raise


@handle_echo.check("sends back 1 MB while the caller is still sending")
def _(fn):
    data = bytes(range(256)) * 4096  # 1 MiB, every byte value
    _run_echo(fn, data, 4096, what=" (1 MB)")


@handle_echo.check("sends back each line at once, while the caller is still on the line")
def _(fn):
    # A person typing in nc sends one line and waits to see it come back before typing
    # the next one: a handler that collects everything until the hang-up never answers.
    line = b"Are you there?\n"
    with loopback_pair() as (client, server):
        blocking_with_os_timeouts(server)
        outcome: dict = {}

        def run() -> None:
            try:
                fn(server)
            except BaseException as exc:  # judged in the checking thread
                outcome["error"] = exc

        runner = threading.Thread(target=run, name="tcplessons echo handler", daemon=True)
        runner.start()
        try:
            client.sendall(line)
            echoed = _read_echo(client, len(line), runner)
            if "error" in outcome and not isinstance(outcome["error"], OSError):
                raise outcome["error"]
            if echoed != line:
                if not runner.is_alive() and not echoed:
                    got = "nothing: handle_echo returned without sending anything back"
                elif line.startswith(echoed):
                    got = "nothing, or only part of the line, while the caller waited"
                else:
                    got = "different bytes"
                raise CheckFailed(
                    "handle_echo did not send the line back while the caller was still on the line",
                    sent=show_bytes(line) + f", then waited {STUCK:g} s for the echo before hanging up",
                    got=got,
                    expected=show_bytes(line),
                    hint="send back each piece as soon as recv() returns it, inside the loop: do not "
                    "collect everything until the caller hangs up — a person typing in nc waits "
                    "for each line to come back",
                )
        finally:
            shut_down_and_close(client)
            runner.join(STUCK)
            shut_down_and_close(server)


def _read_echo(client: socket.socket, size: int, runner: threading.Thread) -> bytes:
    """Read up to ``size`` bytes within STUCK seconds; stop early if the handler returned
    (a stub or a crash fails at once instead of after the whole wait)."""
    deadline = time.monotonic() + STUCK
    data = b""
    while len(data) < size:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([client], [], [], min(left, 0.02))
        if ready:
            try:
                piece = client.recv(size - len(data))
            except OSError:
                break
            if not piece:
                break
            data += piece
        elif not runner.is_alive():
            break
    return data


@handle_echo.check("copes with a caller who hangs up early or resets the line")
def _(fn):
    # 1. A caller who rings and hangs up without a word: recv() gives b"" at once.
    with loopback_pair() as (client, server):
        client.close()
        _returns_quickly(fn, blocking_with_os_timeouts(server), "a caller who hung up without sending anything")
    # 2. A caller who sends a lot, then resets the line (RST) without reading the echo.
    with loopback_pair() as (client, server):
        client.sendall(b"x" * 100_000)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        client.close()  # SO_LINGER 0: close() sends a reset instead of a goodbye
        _returns_quickly(fn, blocking_with_os_timeouts(server), "a caller who sent 100000 bytes and reset the line")


def _returns_quickly(fn, conn: socket.socket, who: str) -> None:
    try:
        call_with_timeout(
            fn, conn, timeout=STUCK, call="handle_echo(conn)",
            hint=f"with {who} it kept running. {HANGUP_HINT}; an OSError such as "
            "ConnectionResetError also means the line is dead",
        )
    except (OSError, socket.timeout):
        pass  # a dead line may surface as ConnectionResetError or BrokenPipeError: fine
    finally:
        shut_down_and_close(conn)


# -- echo_client ------------------------------------------------------------------------------

echo_client = Exercise(
    "echo_client",
    lesson=LESSON,
    summary="echo_client(address, message): send message as UTF-8, shut down the write side, "
    "read the reply until the server hangs up, return it decoded.",
)

Behaviour = Callable[[socket.socket, dict], None]


@contextlib.contextmanager
def _one_call_server(behaviour: Behaviour) -> Iterator[Tuple[Tuple[str, int], dict]]:
    """A listener on 127.0.0.1 that answers one caller with ``behaviour(conn, seen)``.

    Yields ``(address, seen)``; ``seen`` collects what the server noticed.  Leaving the
    block hangs up the line and ends the server thread, whatever the client did.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    wake_r, wake_w = socket.socketpair()
    seen: dict = {}

    def serve() -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            selector.register(wake_r, selectors.EVENT_READ)
            ready = [key.fileobj for key, _ in selector.select(STUCK + 1)]
        if listener not in ready or wake_r in ready:
            return
        conn, _ = listener.accept()
        seen["conn"] = conn
        with conn:
            conn.settimeout(STUCK + 1)
            try:
                behaviour(conn, seen)
            except OSError as exc:
                seen["error"] = exc

    thread = threading.Thread(target=serve, name="tcplessons check server", daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[:2], seen
    finally:
        wake_w.send(b"x")
        conn = seen.get("conn")
        if conn is not None:
            try:
                conn.shutdown(socket.SHUT_RDWR)  # wakes the server and the client alike
            except OSError:
                pass
        thread.join(STUCK)
        listener.close()
        wake_r.close()
        wake_w.close()


def _read_until_eof(conn: socket.socket, seen: dict, limit: int = 1 << 22) -> bytes:
    chunks, total = [], 0
    while total < limit:
        data = conn.recv(65536)
        if not data:
            seen["eof"] = True
            break
        chunks.append(data)
        total += len(data)
    seen["received"] = b"".join(chunks)
    return seen["received"]


def _loud_echo(conn: socket.socket, seen: dict) -> None:
    """Like the lesson's loud echo server: send each piece straight back in capitals;
    hang up after the caller.  (Capitals, so a client that returns its own message
    instead of the reply cannot pass.)"""
    chunks = []
    while True:
        data = conn.recv(65536)
        if not data:
            seen["eof"] = True
            break
        chunks.append(data)
        conn.sendall(data.upper())
    seen["received"] = b"".join(chunks)


def _answer_after_eof(conn: socket.socket, seen: dict) -> None:
    """Wait for the whole message (the caller's shutdown), then reply and hang up.  The
    reply is not an echo: the message in capitals, then how many bytes arrived."""
    received = _read_until_eof(conn, seen)
    conn.sendall(_after_eof_reply(received))


def _after_eof_reply(received: bytes) -> bytes:
    return received.upper() + b" (" + str(len(received)).encode() + b" bytes received)"


#: How the reports name the test servers: a learner must not think they are echo servers.
LOUD_SERVER = "to a test server that replies with each piece in capitals (not a plain echo)"
AFTER_EOF_SERVER = (
    "to a test server that replies only after the caller shuts down its write side, with the "
    "message in capitals and a byte count (not a plain echo)"
)
REPLY_HINT = (
    "return what the server sends back, not the message you were given: keep calling recv() "
    "until it returns b'' (the server hung up), join the pieces, and decode them"
)


def _judge_reply(got: str, message: str, expected: str, server: str) -> None:
    if got == expected:
        return
    if got == message:
        what, hint = "echo_client returned the message it was given, not the server's reply", REPLY_HINT
    else:
        what, hint = "echo_client returned something other than the server's reply", KEEP_READING_HINT
    raise CheckFailed(what, sent=f"{message!r} {server}", got=_partial(got, expected), expected=repr(expected), hint=hint)


def _call_client(fn, address, message: str):
    try:
        result = call_with_timeout(
            fn, address, message, timeout=STUCK, call=f"echo_client(address, {message[:20]!r})",
            hint=SHUTDOWN_HINT,
        )
    except TypeError as exc:
        if "bytes-like" in str(exc) or "str" in str(exc):
            raise CheckFailed(
                "echo_client raised TypeError while sending",
                sent=repr(message),
                got=f"TypeError: {exc}",
                hint="sockets carry bytes, not str: send message.encode('utf-8')",
            ) from None
        raise
    except UnicodeDecodeError:
        raise CheckFailed(
            "echo_client raised UnicodeDecodeError while reading the reply",
            got="UnicodeDecodeError (a character was split between two reads)",
            hint="a character can be split across two recv() calls: join all the bytes and decode "
            "once at the end (or use codecs.getincrementaldecoder('utf-8'))",
        ) from None
    if not isinstance(result, str):
        raise CheckFailed(
            f"echo_client returned a {type(result).__name__}, not text",
            got=repr(result)[:80],
            hint="decode the reply's bytes with .decode('utf-8') before returning it",
        )
    return result


@echo_client.check("sends the message and returns the server's reply, as text")
def _(fn):
    message = "Hello, echo server!"
    with _one_call_server(_loud_echo) as (address, seen):
        got = _call_client(fn, address, message)
    _judge_reply(got, message, message.upper(), LOUD_SERVER)


@echo_client.check("tells the server it has finished sending (shuts down the write side)")
def _(fn):
    message = "Is anybody there?"
    # This server answers only once it sees b"" (the caller's shutdown), like many do.
    with _one_call_server(_answer_after_eof) as (address, seen):
        got = _call_client(fn, address, message)
    _judge_reply(got, message, _after_eof_reply(message.encode()).decode(), AFTER_EOF_SERVER)


@echo_client.check("sends the text encoded as UTF-8 (é, 日本, 🙂)")
def _(fn):
    message = "héllo, 日本 🙂"
    with _one_call_server(_answer_after_eof) as (address, seen):
        got = _call_client(fn, address, message)
        received = seen.get("received", b"")
    if received != message.encode("utf-8"):
        raise CheckFailed(
            "the server did not receive the message's UTF-8 bytes",
            sent=repr(message), got=show_bytes(received), expected=show_bytes(message.encode("utf-8")),
            hint="encode the text with message.encode('utf-8') and send it all with sendall()",
        )
    _judge_reply(got, message, _after_eof_reply(received).decode("utf-8"), AFTER_EOF_SERVER)


def _partial(got: str, want: str) -> str:
    """What came back, in words that do not depend on timing."""
    if len(got) < len(want) and want.startswith(got):
        return "the first part of the reply only"
    return repr(got[:60])


#: A reply whose first character is split from the rest, then a long multi-byte tail.
LONG_REPLY = "é" + ("日本語 and text, " * 6000)


@echo_client.check("reads the whole reply, however it is split, and decodes it at the end")
def _(fn):
    reply = LONG_REPLY.encode("utf-8")

    def answer_in_pieces(conn: socket.socket, seen: dict) -> None:
        _read_until_eof(conn, seen)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.sendall(reply[:1])  # half of "é": a reader that decodes each recv() fails here
        for start in range(1, 1001, 5):
            conn.sendall(reply[start : start + 5])
        for start in range(1001, len(reply), 4096):
            conn.sendall(reply[start : start + 4096])

    with _one_call_server(answer_in_pieces) as (address, seen):
        got = _call_client(fn, address, "send me something long")
    if got != LONG_REPLY:
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


register(handle_echo)
register(echo_client)
