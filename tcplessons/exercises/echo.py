"""Checks for lesson 03's ``handle_echo(conn)``: send back every byte, until the hang-up.

Every check uses real sockets on 127.0.0.1 and bounded waits, so a wrong answer fails in
seconds.  Awkward sockets make the classic mistakes fail every time, not only on a busy
network: :class:`ShortRecvSocket` and :class:`ShortSendSocket` for the ``conn`` handed to
``handle_echo``.

Verdicts judge progress, not speed: a handler that echoes one byte at a time passes on a
slow machine; one that stops echoing for :data:`STALL_TIMEOUT` seconds, or keeps
running :data:`RETURN_TIMEOUT` seconds after everything was echoed and the caller hung
up, fails.  The hint texts are in :mod:`tcplessons.exercises._echo_hints`; lesson 03's
other exercise, ``echo_client``, is checked in :mod:`tcplessons.exercises.echo_client`.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from collections.abc import Callable

from ._echo_hints import (
    BYTES_HINT,
    HANGUP_HINT,
    KEEP_READING_HINT,
    LESSON,
    PAUSE_HINT,
    SENDALL_HINT,
)
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

__all__ = ["handle_echo_exercise"]

#: How often a check looks at the progress of the learner's code.
POLL = 0.02

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


register(handle_echo_exercise)
