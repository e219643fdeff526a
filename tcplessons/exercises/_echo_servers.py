"""The test servers ``echo_client``'s checks call: each answers one caller, its own way.

:func:`_one_call_server` listens on 127.0.0.1 and runs a behaviour for the one caller;
the behaviours (:func:`_loud_echo`, :func:`_answer_after_eof`, :func:`_answer_after`) are
never plain echoes, so a client that returns its own message cannot pass.  The checks
that use them are in :mod:`tcplessons.exercises.echo_client`.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from collections.abc import Callable, Iterator

from .tools import CALL_TIMEOUT, READ_TIMEOUT

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
