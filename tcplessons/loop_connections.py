"""The connections of the event-loop server: :class:`Protocol` (what you write, one per
caller), :class:`Connection` (what the loop hands it) and the loop's work on each one.

:class:`_ConnectionServing` is the part of :class:`~tcplessons.eventloop.LoopServer` that
serves connections once they are accepted: it reads, runs the protocol's methods, sends
the outbox without blocking, chooses what the selector watches (write interest only with
an outbox, no reading while backpressure holds) and closes.  The loop itself (its thread,
the selector, accepting, waking, stopping) is in :mod:`tcplessons.eventloop`, which also
re-exports every public name here.
"""

from __future__ import annotations

import selectors
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from .events import EventLog

if TYPE_CHECKING:
    from .eventloop import LoopServer

__all__ = ["Connection", "EchoProtocol", "Protocol"]

#: Outbox size at which write() sends at once instead of at the end of the turn, so that
#: outbox_size keeps meaning "bytes the caller has not taken" even in a long turn.
EAGER_SEND = 64 * 1024


class Protocol:
    """What to do for one caller.  Subclass it; every method is optional.

    The loop calls ``connection_made(conn)`` once, ``data_received(data)`` for every
    chunk of bytes (any size: a stream has no messages), ``eof_received()`` when the
    caller half-closes (``shutdown(SHUT_WR)``), and ``connection_lost()`` once the
    connection is closed, whatever the cause.  All of them run in the loop's thread:
    they must never block (no ``sleep()``, no blocking socket calls).
    """

    conn: Connection

    def connection_made(self, conn: Connection) -> None:
        self.conn = conn

    def data_received(self, data: bytes) -> None:
        pass

    def eof_received(self) -> None:
        """The caller sent everything it will send.  By default: close once the outbox is
        flushed, so the caller still gets every byte already written."""
        conn = getattr(self, "conn", None)
        if conn is not None:
            conn.close()

    def connection_lost(self) -> None:
        pass


class EchoProtocol(Protocol):
    """Send back every byte received (the loop's version of lesson 03's echo server)."""

    def data_received(self, data: bytes) -> None:
        self.conn.write(data)


class Connection:
    """One caller, as the loop sees it: ``write()``, ``close()``, ``outbox_size``.

    Only touched from the loop's thread (from protocol methods, or from a function given
    to :meth:`LoopServer.call_soon`).
    """

    def __init__(self, server: LoopServer, sock: socket.socket, line: int, peer):
        self.server = server
        self.sock = sock
        self.line = line
        self.peer = peer
        self.protocol: Protocol | None = None
        self._outbox = bytearray()
        self._closing = False  # close() was called: flush, then close
        self._closed = False
        self._eof = False  # the caller half-closed: nothing more to read
        self._events = 0  # what the selector watches for now (0: not registered)
        self._pending = False  # in the loop's list of connections to flush
        self._failed: OSError | None = None  # a send failed inside write(): close soon

    @property
    def outbox_size(self) -> int:
        """Bytes written but not yet taken by the kernel."""
        return len(self._outbox)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def reading(self) -> bool:
        """Whether the loop reads from this caller now (False while backpressure holds)."""
        return bool(self._events & selectors.EVENT_READ)

    def write(self, data: bytes) -> None:
        """Queue ``data`` for the caller; the loop sends it without blocking.

        Writing to a closed or closing connection does nothing (the caller is gone).
        """
        self.server._check_thread("Connection.write()")
        if self._closing or self._closed or not data:
            return
        self._outbox += data
        if len(self._outbox) >= EAGER_SEND:
            self.server._send(self, defer_errors=True)
        self.server._schedule_flush(self)

    def close(self) -> None:
        """Close once the outbox is flushed (stops reading from the caller now)."""
        self.server._check_thread("Connection.close()")
        if not self._closed:
            self._closing = True
            self.server._schedule_flush(self)

    def abort(self) -> None:
        """Close now, dropping whatever the outbox still holds."""
        self.server._check_thread("Connection.abort()")
        self.server._close_connection(self)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "closing" if self._closing else "open"
        return f"<Connection line {self.line} ({state})>"


class _ConnectionServing:
    """What LoopServer does for each accepted connection (its loop thread calls these).

    A base class of :class:`~tcplessons.eventloop.LoopServer`, which sets the attributes
    below; kept apart so that the loop and the per-connection bookkeeping each read as
    one job.
    """

    log: EventLog
    log_data: bool
    nodelay: bool
    read_size: int
    outbox_limit: int
    protocol_factory: Callable[[], Protocol]
    _selector: selectors.BaseSelector
    _connections: dict[int, Connection]
    _pending: list[Connection]
    _count: int

    def _add_connection(self, sock: socket.socket, peer) -> None:
        sock.setblocking(False)
        if self.nodelay:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        self._count += 1
        conn = Connection(self, sock, self._count, peer)
        self._connections[conn.line] = conn
        self.log.record("connected", conn.line, peer=peer)
        self._set_events(conn, selectors.EVENT_READ)
        try:
            conn.protocol = self.protocol_factory()
        except Exception as exc:
            self._protocol_failed(conn, exc)
            return
        self._call(conn, "connection_made", conn)

    def _serve(self, conn: Connection, mask: int) -> None:
        if conn._closed:
            return  # closed earlier in this same turn
        if mask & selectors.EVENT_WRITE:
            self._send(conn)
        if mask & selectors.EVENT_READ and not conn._closed and not conn._closing:
            self._receive(conn)
        if not conn._closed and not conn._pending:
            self._update_interest(conn)

    def _receive(self, conn: Connection) -> None:
        try:
            data = conn.sock.recv(self.read_size)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # a reset is a hang-up too
            self.log.record("hung up", conn.line, error=exc)
            self._close_connection(conn)
            return
        if data:
            if self.log_data:
                self.log.record("received", conn.line, nbytes=len(data), data=data)
            self._call(conn, "data_received", data)
            return
        self.log.record("hung up", conn.line)
        conn._eof = True  # a half-closed socket stays readable: stop watching it
        if (
            getattr(type(conn.protocol), "eof_received", Protocol.eof_received)
            is Protocol.eof_received
        ):
            conn.close()  # the default, even for a protocol that never stored its conn
        else:
            self._call(conn, "eof_received")

    def _call(self, conn: Connection, method: str, *args) -> None:
        callback = getattr(conn.protocol, method, None)  # every method is optional
        if callback is None:
            return
        try:
            callback(*args)
        except Exception as exc:
            self._protocol_failed(conn, exc)

    def _protocol_failed(self, conn: Connection, exc: Exception) -> None:
        self.log.record("error", conn.line, error=exc)
        self._close_connection(conn)

    def _send(self, conn: Connection, defer_errors: bool = False) -> None:
        """Send what the kernel takes now, without blocking.

        With ``defer_errors`` (a send from inside write()), a failed connection is closed
        at the end of the turn, not while a protocol may be looping over connections.
        """
        if conn._failed is not None:
            if not defer_errors:
                self.log.record("hung up", conn.line, error=conn._failed)
                self._close_connection(conn)
            return
        outbox = conn._outbox
        while outbox:
            try:
                sent = conn.sock.send(outbox)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # the caller vanished (reset, broken pipe)
                if defer_errors:
                    conn._failed = exc
                    return
                self.log.record("hung up", conn.line, error=exc)
                self._close_connection(conn)
                return
            if self.log_data:
                self.log.record("sent", conn.line, nbytes=sent, data=bytes(outbox[:64]))
            del outbox[:sent]  # cheap: a bytearray drops its front without copying the rest

    def _schedule_flush(self, conn: Connection) -> None:
        if not conn._pending:
            conn._pending = True
            self._pending.append(conn)

    def _flush_pending(self) -> None:
        while self._pending:  # closing one may schedule others (protocols react)
            pending, self._pending = self._pending, []
            for conn in pending:
                conn._pending = False
                if conn._closed:
                    continue
                self._send(conn)
                if not conn._closed:
                    self._update_interest(conn)

    def _update_interest(self, conn: Connection) -> None:
        """Watch for readable unless paused, and for writable only while bytes wait."""
        if conn._closing and not conn._outbox:
            self._close_connection(conn)
            return
        events = 0
        if not (conn._closing or conn._eof) and len(conn._outbox) <= self.outbox_limit:
            events |= selectors.EVENT_READ
        if conn._outbox:
            events |= selectors.EVENT_WRITE
        self._set_events(conn, events)

    def _set_events(self, conn: Connection, events: int) -> None:
        if events == conn._events:
            return
        if not events:
            self._selector.unregister(conn.sock)
        elif not conn._events:
            self._selector.register(conn.sock, events, conn)
        else:
            self._selector.modify(conn.sock, events, conn)
        conn._events = events

    def _close_connection(self, conn: Connection) -> None:
        if conn._closed:
            return
        conn._closed = True
        conn._outbox.clear()
        self._set_events(conn, 0)
        self._connections.pop(conn.line, None)
        conn.sock.close()
        self.log.record("closed", conn.line)
        lost = getattr(conn.protocol, "connection_lost", None)
        if lost is not None:
            try:
                lost()
            except Exception as exc:
                self.log.record("error", conn.line, error=exc)
