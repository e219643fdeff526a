"""Checks for lesson 03 (echo server): ``handle_echo(conn)`` and ``echo_client(address, message)``.

Every check uses real sockets on 127.0.0.1 and bounded waits, so a wrong answer fails in
seconds.  Awkward sockets make the classic mistakes fail every time, not only on a busy
network: :class:`ShortRecvSocket` and :class:`ShortSendSocket` for the ``conn`` handed to
``handle_echo``, and a :class:`SocketWatch` for the socket ``echo_client`` opens itself
(its ``send()`` writes 3 bytes at a time in one check, and its ``shutdown()`` is seen).

Verdicts judge progress, not speed: a handler that echoes one byte at a time passes on a
slow machine; one that stops echoing for :data:`STALL_TIMEOUT` seconds, or keeps
running :data:`RETURN_TIMEOUT` seconds after everything was echoed and the caller hung
up, fails.
"""

from __future__ import annotations

import contextlib
import errno
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterator

from .model import CheckFailed, Exercise
from .registry import register
from .tools import (
    CALL_TIMEOUT,
    READ_TIMEOUT,
    RETURN_TIMEOUT,
    STALL_TIMEOUT,
    CheckSocket,
    LearnerCall,
    ShortRecvSocket,
    ShortSendSocket,
    SocketWatch,
    adopt,
    blocking_with_os_timeouts,
    loopback_pair,
    pause_for,
    recv_until_closed,
    reset,
    send_in_chunks,
    show_bytes,
    shut_down_and_close,
)

__all__ = ["echo_client_exercise", "handle_echo_exercise"]

LESSON = "03-echo-server"
#: How often a check looks at the progress of the learner's code.
POLL = 0.02

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
BYTES_HINT = (
    "the data need not be text: send back exactly the bytes you received, without decoding them"
)
SHUTDOWN_HINT = (
    "the server waits for the end of your message while you wait for its reply: after "
    "sendall(), call sock.shutdown(socket.SHUT_WR) to say you have finished sending"
)
PAUSE_HINT = (
    "a pause is not a hang-up: only recv() returning b'' means the other side has "
    "finished; do not stop on a timeout (socket.timeout) or on BlockingIOError"
)
SHUT_RDWR_HINT = (
    "you closed your own reading side too: use SHUT_WR. shutdown(socket.SHUT_RDWR) (or "
    "SHUT_RD) also stops your socket from receiving, so the reply is lost; "
    'shutdown(socket.SHUT_WR) says only "I have finished sending"'
)


# -- handle_echo ----------------------------------------------------------------------------

handle_echo_exercise = Exercise(
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
    wrap: Callable[[socket.socket], socket.socket] | None = None,
    what: str = "",
    pause: Callable[[socket.socket], float] = lambda conn: 0.0,
) -> None:
    """Send ``data`` in pieces of ``chunk`` bytes to ``fn(conn)``, hang up our write side,
    read the echo at the same time (so large data cannot deadlock), and judge it.

    Half way, the caller waits until the handler has read everything so far and asks for
    more, then ``pause(conn)`` seconds more: a handler that stops when nothing is
    waiting stops there on every run.  The handler may be as slow as it likes while it
    makes progress."""
    with loopback_pair() as (client, server):
        blocking_with_os_timeouts(server)
        # The check's own reader and sender wait as long as the handler makes progress
        # (judged below); closing conn at the end wakes them.
        client.settimeout(None)
        conn = wrap(server) if wrap else adopt(CheckSocket, server)
        try:
            echoed, sent, result = [0], [0], {}
            # Wake the check's reader only for large amounts (or at the end): a handler
            # echoing one byte at a time then runs at its own speed, not at the speed of
            # two threads taking turns for every byte.
            with contextlib.suppress(OSError, AttributeError):
                client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, min(len(data), 65536))
            reader = threading.Thread(
                target=lambda: result.setdefault(
                    "data", recv_until_closed(client, progress=echoed)
                ),
                name="tcplessons echo reader",
                daemon=True,
            )
            reader.start()
            sender = send_in_chunks(
                client,
                data,
                chunk,
                hang_up=True,
                pause_at=len(data) // 2,
                pause=lambda: pause(conn),
                progress=sent,
                reader=conn,
            )
            running = LearnerCall(fn, conn).start()
            try:
                # Progress is every byte the handler reads (conn counts them) or echoes.
                _wait_while_echoing(
                    running, sender, data, lambda: conn.delivered + echoed[0], echoed, what
                )
            finally:
                conn.starved.set()  # the handler is done: the sender need not wait for it
            try:
                running.result()
            except UnicodeError as exc:
                raise CheckFailed(
                    f"handle_echo raised {type(exc).__name__}{what}",
                    sent=show_bytes(data),
                    got=f"{type(exc).__name__} (bytes that are not text, or a character split between two reads)",
                    hint=BYTES_HINT,
                ) from None
            except (TimeoutError, BlockingIOError) as exc:
                raise CheckFailed(
                    f"handle_echo raised {type(exc).__name__} when nothing had arrived for a moment",
                    hint=PAUSE_HINT,
                    cause="pause",
                ) from None
            sender.join(READ_TIMEOUT)
            # A handler that closed conn ends the reader at once; one that left it open
            # (and did not shut it down either) never will.
            reader.join(RETURN_TIMEOUT if conn.fileno() != -1 else READ_TIMEOUT)
            if reader.is_alive():
                raise CheckFailed(
                    "handle_echo returned but never closed conn: the caller is still waiting for the line to go dead",
                    sent=show_bytes(data) + " then hung up",
                    hint="close conn when recv() returns b'' (or put the loop in a `with conn:` block)",
                )
            got = result.get("data", b"")
        finally:
            shut_down_and_close(conn)
    if got != data and conn.gave_up:
        raise CheckFailed(
            f"handle_echo stopped when nothing had arrived for a moment{what}",
            sent=show_bytes(data) + ", with a pause half way",
            got="the first part of the data, then the line went dead",
            expected=show_bytes(data),
            hint=PAUSE_HINT,
            cause="pause",
        )
    if got != data:
        # The text never quotes how many bytes did arrive: that depends on timing, and a
        # report must read the same on every run.
        if len(got) < len(data) and data.startswith(got):
            problem, seen = (
                f"the echo stopped early{what}",
                "the first part of the data, then the line went dead",
            )
        else:
            problem, seen = f"the echo differs from what was sent{what}", "different bytes"
        raise CheckFailed(
            problem,
            sent=show_bytes(data),
            got=seen,
            expected=show_bytes(data),
            hint=KEEP_READING_HINT,
        )


def _wait_while_echoing(
    running: LearnerCall,
    sender: threading.Thread,
    data: bytes,
    progress: Callable[[], int],
    echoed,
    what: str,
) -> None:
    """Wait for the handler while it makes progress (``progress()``: bytes it has read
    and sent back so far; ``echoed[0]``: bytes sent back)."""
    last_progress, last_count, all_done_at = time.monotonic(), -1, None
    while not running.join(POLL):
        now = time.monotonic()
        count = progress()
        if count != last_count or sender.is_alive() and _pausing(sender):
            last_progress, last_count = now, count
        still_running = CheckFailed(
            f"handle_echo(conn) was still running after the caller hung up{what}",
            hint=f"it was still running after the caller hung up. {HANGUP_HINT}",
        )
        if echoed[0] >= len(data) and not sender.is_alive():
            all_done_at = all_done_at or now
            if now - all_done_at > RETURN_TIMEOUT:
                raise still_running
        elif now - last_progress > STALL_TIMEOUT:
            if not sender.is_alive():  # everything sent and hung up: the same verdict
                raise still_running
            raise CheckFailed(
                f"handle_echo(conn) stopped: nothing was read or sent back for {STALL_TIMEOUT:g} s{what}",
                sent=show_bytes(data) + " then hung up",
                hint="send back each piece as soon as recv() returns it, and keep reading until "
                f"recv() returns b''. {HANGUP_HINT}",
            )


def _pausing(sender: threading.Thread) -> bool:
    return getattr(sender, "pausing", False)


def _short_recv(limit: int) -> Callable[[socket.socket], socket.socket]:
    return lambda sock: adopt(ShortRecvSocket, sock, limit=limit)


@handle_echo_exercise.check(
    "sends back a short message and closes the line when the caller hangs up"
)
def _echoes_a_short_message(fn):
    _run_echo(fn, b"Hello, echo server!\n", 4096)


@handle_echo_exercise.check("sends back bytes that are not text (all 256 byte values)")
def _echoes_binary(fn):
    _run_echo(fn, bytes(range(256)) * 2, 4096, what=" (binary data)")


@handle_echo_exercise.check("sends back data that arrives in pieces of 1, 5 and 4096 bytes")
def _echoes_pieces(fn):
    text = "Grüße, 日本, and a long line of text. " * 12
    for chunk in (1, 5, 4096):
        data = (text * (1 if chunk == 1 else 20)).encode()
        # recv() on this socket returns at most 7 bytes: "one recv is one message" fails.
        _run_echo(
            fn,
            data,
            chunk,
            wrap=_short_recv(7),
            what=f" (sent in pieces of {chunk} byte{'s' if chunk > 1 else ''})",
        )


@handle_echo_exercise.check("keeps echoing when the caller pauses in the middle")
def _echoes_through_a_pause(fn):
    data = b"first half of the line, " + b"then a pause, then the rest\n"
    try:
        # As long as the handler's own socket timeout and more: a pause is not the end.
        _run_echo(
            fn,
            data,
            4096,
            pause=lambda conn: pause_for(conn.gettimeout()),
            what=" (the caller paused half way)",
        )
    except CheckFailed as failure:
        if failure.hint == KEEP_READING_HINT:
            failure.hint = PAUSE_HINT
        raise


@handle_echo_exercise.check("sends every byte even when send() writes only part of it")
def _echoes_with_short_sends(fn):
    data = b"every byte counts: " + bytes(range(48, 123)) * 4
    try:
        _run_echo(
            fn,
            data,
            4096,
            wrap=lambda sock: adopt(ShortSendSocket, sock, limit=3),
            what=" (send() writes 3 bytes at a time here)",
        )
    except CheckFailed as failure:
        if failure.hint == KEEP_READING_HINT:
            failure.hint = SENDALL_HINT
        raise


@handle_echo_exercise.check("sends back 1 MB while the caller is still sending")
def _echoes_a_megabyte(fn):
    _run_echo(fn, bytes(range(256)) * 4096, 4096, what=" (1 MB)")


@handle_echo_exercise.check("sends back each line at once, while the caller is still on the line")
def _echoes_each_line_at_once(fn):
    # A person typing in nc sends one line and waits to see it come back before typing
    # the next one: a handler that collects everything until the hang-up never answers.
    line = b"Are you there?\n"
    with loopback_pair() as (client, server):
        blocking_with_os_timeouts(server)
        # The line is there before the handler starts, so what it does first never
        # depends on which thread ran first.
        client.sendall(line)
        conn = adopt(CheckSocket, server)
        running = LearnerCall(fn, conn).start()
        try:
            echoed = _read_echo(client, len(line), running)
            if running.done:
                with contextlib.suppress(OSError):
                    running.result()  # the learner's own exception, reported as it is
            if echoed != line:
                if running.done and not echoed:
                    got = "nothing: handle_echo returned without sending anything back"
                elif line.startswith(echoed):
                    got = "nothing, or only part of the line, while the caller waited"
                else:
                    got = "different bytes"
                raise CheckFailed(
                    "handle_echo did not send the line back while the caller was still on the line",
                    sent=show_bytes(line)
                    + f", then waited {READ_TIMEOUT:g} s for the echo before hanging up",
                    got=got,
                    expected=show_bytes(line),
                    hint="send back each piece as soon as recv() returns it, inside the loop: do not "
                    "collect everything until the caller hangs up — a person typing in nc waits "
                    "for each line to come back",
                )
        finally:
            shut_down_and_close(client)
            running.join(READ_TIMEOUT)
            shut_down_and_close(conn)


def _read_echo(client: socket.socket, size: int, running: LearnerCall) -> bytes:
    """Read up to ``size`` bytes within READ_TIMEOUT seconds; stop early if the handler
    returned (a stub or a crash fails at once instead of after the whole wait)."""
    deadline = time.monotonic() + READ_TIMEOUT
    data = b""
    with selectors.DefaultSelector() as selector:
        selector.register(client, selectors.EVENT_READ)
        while len(data) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if selector.select(min(left, POLL)):
                try:
                    piece = client.recv(size - len(data))
                except OSError:
                    break
                if not piece:
                    break
                data += piece
            elif running.done:
                break
    return data


@handle_echo_exercise.check("copes with a caller who hangs up early or resets the line")
def _copes_with_hang_up_and_reset(fn):
    # 1. A caller who rings and hangs up without a word: recv() gives b"" at once.
    with loopback_pair() as (client, server):
        client.close()
        _returns_quickly(
            fn, blocking_with_os_timeouts(server), "a caller who hung up without sending anything"
        )
    # 2. A caller who sends a lot, then resets the line (RST) without reading the echo.
    with loopback_pair() as (client, server):
        client.sendall(b"x" * 100_000)
        reset(client)
        _returns_quickly(
            fn,
            blocking_with_os_timeouts(server),
            "a caller who sent 100000 bytes and reset the line",
        )


def _returns_quickly(fn, conn: socket.socket, who: str) -> None:
    running = LearnerCall(fn, conn).start()
    try:
        if not running.join(CALL_TIMEOUT):
            raise CheckFailed(
                f"handle_echo(conn) did not return within {CALL_TIMEOUT:g} s",
                hint=f"with {who} it kept running. {HANGUP_HINT}; an OSError such as "
                "ConnectionResetError also means the line is dead",
            )
        with contextlib.suppress(OSError):
            running.result()  # a dead line may surface as ConnectionResetError: fine
    finally:
        shut_down_and_close(conn)


# -- echo_client ------------------------------------------------------------------------------

echo_client_exercise = Exercise(
    "echo_client",
    lesson=LESSON,
    summary="echo_client(address, message): send message as UTF-8, shut down the write side, "
    "read the reply until the server hangs up, return it decoded.",
)

Behaviour = Callable[[socket.socket, dict], None]


@contextlib.contextmanager
def _one_call_server(behaviour: Behaviour) -> Iterator[tuple[tuple[str, int], dict]]:
    """A listener on 127.0.0.1 that answers one caller with ``behaviour(conn, seen)``.

    Yields ``(address, seen)``; ``seen`` collects what the server noticed.  Leaving the
    block hangs up the line and ends the server thread, whatever the client did.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    wake_r, wake_w = socket.socketpair()
    seen: dict = {"done": threading.Event()}

    def serve() -> None:
        try:
            answer()
        finally:
            seen["done"].set()

    def answer() -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            selector.register(wake_r, selectors.EVENT_READ)
            ready = [key.fileobj for key, _ in selector.select(CALL_TIMEOUT + 1)]
        if listener not in ready or wake_r in ready:
            return
        conn, _ = listener.accept()
        seen["conn"] = conn
        with conn:
            conn.settimeout(CALL_TIMEOUT + 1)
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
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)  # wakes the server and the client alike
        thread.join(CALL_TIMEOUT)
        listener.close()
        wake_r.close()
        wake_w.close()


def _read_until_eof(conn: socket.socket, seen: dict, limit: int = 1 << 22) -> bytes:
    """Read until the caller shuts down its write side (or ``limit`` bytes); a server
    that knows how long the message is passes that as ``limit`` and does not wait for
    the shutdown, so only the check about shutting down fails a client that forgets it."""
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


def _loud_echo(conn: socket.socket, seen: dict, size: int = 1 << 22) -> None:
    """Like the lesson's loud echo server: send each piece straight back in capitals;
    hang up after the caller, or once ``size`` bytes came back.  (Capitals, so a client
    that returns its own message instead of the reply cannot pass.)"""
    chunks: list = []
    while sum(map(len, chunks)) < size:
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


def _answer_after(message: str) -> Behaviour:
    """Like :func:`_answer_after_eof`, but the reply goes as soon as the whole message
    is in (or the caller shuts down)."""

    def answer(conn: socket.socket, seen: dict) -> None:
        received = _read_until_eof(conn, seen, limit=len(message.encode("utf-8")))
        conn.sendall(_after_eof_reply(received))

    return answer


def _received(seen: dict) -> bytes:
    """What the test server received, once it has finished reading."""
    seen["done"].wait(READ_TIMEOUT)
    return seen.get("received", b"")


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


register(handle_echo_exercise)
register(echo_client_exercise)
