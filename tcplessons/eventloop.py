"""An event-loop server: one thread, one selector, every caller.

The thread-per-caller server (:mod:`tcplessons.servers`) gives each caller a thread that
blocks in ``recv()``.  This server has one thread that waits in ``select()`` for *any*
socket to be ready, then does only what that socket allows without blocking.  Your code
is a :class:`Protocol`: a small object per caller whose methods the loop calls::

    class Echo(Protocol):
        def connection_made(self, conn):
            self.conn = conn
        def data_received(self, data):
            self.conn.write(data)         # queued; the loop sends it without blocking

    server = start_loop_server(Echo)      # listening before this line returns
    ...                                   # connect to server.address, as always
    server.log.show()
    server.stop()                         # the listener, every caller, the thread: gone

The server object behaves like the thread server's: ``.address``, ``.name``, ``.log``,
``.stop()``, a context manager, ``stop_all()`` stops it, and starting a server under a
running name stops the old one first.

What the loop does for you:

- **Write interest only with an outbox.**  ``conn.write()`` adds to the caller's outbox;
  before the loop waits again it sends what the kernel takes at once (several writes in
  one turn leave in one ``send()``).  Only a caller whose outbox still holds bytes is
  watched for "writable", so an idle server sleeps in ``select()`` instead of spinning.
- **Backpressure.**  A caller whose outbox holds more than ``outbox_limit`` bytes (it
  sends but does not read) is not read from until its outbox drains to the limit again:
  memory stays bounded and everyone else is still served.
- **Errors stay with their caller.**  A protocol method that raises is recorded in the
  log and closes only that caller's connection.
- **Stops in milliseconds.**  ``stop()`` wakes ``select()`` through a socket pair (the
  "self-pipe"), which works on every system; closing the listener from another thread
  wakes ``select()`` on Linux only.

Connections and protocols belong to the loop's thread.  To act on them from a cell, pass
a function to :meth:`LoopServer.call_soon`.
"""

from __future__ import annotations

import collections
import selectors
import socket
import threading
import time
from collections.abc import Callable

from .events import EventLog
from .servers import _forget, _registry_lock, _running

__all__ = [
    "Connection",
    "EchoProtocol",
    "LoopServer",
    "Protocol",
    "start_loop_echo_server",
    "start_loop_server",
]

#: How long stop() waits for the loop thread to finish.
STOP_TIMEOUT = 2.0
#: Bytes one recv() may return.
READ_SIZE = 65536
#: Outbox size at which write() sends at once instead of at the end of the turn, so that
#: outbox_size keeps meaning "bytes the caller has not taken" even in a long turn.
EAGER_SEND = 64 * 1024
#: Callers accepted per turn of the loop at most, so a crowd arriving cannot starve the rest.
ACCEPTS_PER_TURN = 64


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


class LoopServer:
    """A listening socket served by one event-loop thread.

    Use :func:`start_loop_server` rather than this class.  ``address`` is the real
    ``(host, port)``; ``log`` is the :class:`EventLog`; ``turns`` counts how often the
    loop woke up from ``select()`` (an idle server's count stands still).
    """

    def __init__(
        self,
        protocol_factory: Callable[[], Protocol],
        *,
        name: str,
        host: str = "127.0.0.1",
        port: int = 0,
        outbox_limit: int = 1 << 20,
        log_data: bool = True,
        backlog: int = 128,
        nodelay: bool = True,
        read_size: int = READ_SIZE,
    ):
        self.name = name
        self.protocol_factory = protocol_factory
        self.outbox_limit = outbox_limit
        self.log_data = log_data
        self.nodelay = nodelay
        self.read_size = read_size
        self.log = EventLog()
        self.turns = 0
        self._connections: dict[int, Connection] = {}
        self._count = 0
        self._pending: list[Connection] = []
        self._callbacks: collections.deque[tuple[Callable, tuple]] = collections.deque()
        self._stopping = False
        self._stopped = threading.Event()
        self._wake_lock = threading.Lock()  # guards the wake-up socket against stop's close
        self._accept_paused_until: float | None = None

        # Bind and listen here, in the caller's thread: callers queue in the backlog from
        # the moment this returns.
        self.listener = socket.create_server((host, port), backlog=backlog)
        try:
            self.listener.setblocking(False)
            self.address: tuple[str, int] = self.listener.getsockname()[:2]
            self._wake_r, self._wake_w = socket.socketpair()
            self._wake_r.setblocking(False)
            self._wake_w.setblocking(False)  # a full pipe of wake-ups must never block stop()
            self._selector = selectors.DefaultSelector()
            self._selector.register(self.listener, selectors.EVENT_READ, self._accept)
            self._selector.register(self._wake_r, selectors.EVENT_READ, self._woken)
        except BaseException:
            self.listener.close()
            raise
        self.log.record("listening")
        self._thread = threading.Thread(
            target=self._run, name=f"tcplessons {name} loop", daemon=True
        )
        self._thread_ident: int | None = None
        self._thread.start()

    # -- what a cell may ask -------------------------------------------------------------

    @property
    def running(self) -> bool:
        return not self._stopped.is_set()

    @property
    def port(self) -> int:
        return self.address[1]

    def open_lines(self) -> list[int]:
        """Numbers of the connections still open (a snapshot)."""
        return sorted(self._connections)

    def call_soon(self, callback: Callable, *args) -> None:
        """Run ``callback(*args)`` in the loop's thread, soon.  Safe from any thread.

        The way to touch connections from a cell: ``server.call_soon(conn.write, b"hi")``.
        An exception it raises is recorded in the log.
        """
        self._callbacks.append((callback, args))
        self._wake()

    def call(self, callback: Callable, *args, timeout: float = 5.0):
        """Run ``callback(*args)`` in the loop's thread and return its result (or raise
        what it raised).  For a cell that wants to look at connections::

            server.call(lambda: [c.outbox_size for c in server.connections()])
        """
        if threading.get_ident() == self._thread_ident:
            return callback(*args)
        done = threading.Event()
        outcome: dict = {}

        def run() -> None:
            try:
                outcome["value"] = callback(*args)
            except BaseException as exc:  # handed to the calling thread below
                outcome["error"] = exc
            finally:
                done.set()

        self.call_soon(run)
        if not done.wait(timeout):
            raise TimeoutError(f"the loop did not run the call within {timeout} s (is it blocked?)")
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    def connections(self) -> list[Connection]:
        """The open connections, by line number (call it from the loop: see :meth:`call`)."""
        return [self._connections[n] for n in sorted(self._connections)]

    @property
    def thread(self) -> threading.Thread:
        """The loop's one thread (lesson 07 measures its CPU time)."""
        return self._thread

    def hang_up(self, number: int) -> bool:
        """Close connection ``number`` from the server's side (after its outbox is sent);
        False if it is not open."""
        conn = self._connections.get(number)
        if conn is None:
            return False
        self.call_soon(conn.close)
        return True

    def nc_command(self) -> str:
        """The terminal command that connects to this server, e.g. ``nc 127.0.0.1 PORT``."""
        host, port = self.address
        return f"nc {host} {port}"

    # -- the loop (its own thread) -------------------------------------------------------

    def _run(self) -> None:
        self._thread_ident = threading.get_ident()
        try:
            while not self._stopping:
                self._run_callbacks()
                self._flush_pending()
                if self._stopping:
                    break
                ready = self._selector.select(self._select_timeout())
                self.turns += 1
                for key, mask in ready:
                    if self._stopping:
                        break
                    target = key.data
                    if isinstance(target, Connection):
                        self._serve(target, mask)
                    else:
                        target()
        except Exception as exc:  # a bug in the loop itself: record it, then clean up
            self.log.record("error", error=exc)
        finally:
            self._shut_down()

    def _select_timeout(self) -> float | None:
        if self._callbacks:
            return 0
        if self._accept_paused_until is None:
            return None
        left = self._accept_paused_until - time.monotonic()
        if left <= 0:
            self._accept_paused_until = None
            self._selector.register(self.listener, selectors.EVENT_READ, self._accept)
            return 0
        return left

    def _woken(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self._stopping = True

    def _wake(self) -> None:
        with self._wake_lock:
            if self._wake_w is None:
                return
            try:
                self._wake_w.send(b"x")
            except (BlockingIOError, InterruptedError):
                pass  # the pipe is full of wake-ups already: the loop will wake
            except OSError:
                pass

    def _run_callbacks(self) -> None:
        for _ in range(len(self._callbacks)):  # only those queued before this turn
            callback, args = self._callbacks.popleft()
            try:
                callback(*args)
            except Exception as exc:
                self.log.record("error", error=exc)

    def _accept(self) -> None:
        for _ in range(ACCEPTS_PER_TURN):
            try:
                sock, peer = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue  # the caller gave up before we answered
            except OSError as exc:  # out of file descriptors, most likely: retry soon
                self.log.record("error", error=exc)
                # The listener stays readable: stop watching it for a moment, or we spin.
                self._selector.unregister(self.listener)
                self._accept_paused_until = time.monotonic() + 0.1
                return
            self._add_connection(sock, peer)

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

    def _check_thread(self, what: str) -> None:
        if threading.get_ident() != self._thread_ident:
            raise RuntimeError(
                f"{what} was called outside the server's loop thread; "
                "from a cell, use server.call_soon(...) instead"
            )

    def _shut_down(self) -> None:
        for conn in list(self._connections.values()):
            self._close_connection(conn)
        self._callbacks.clear()
        self._selector.close()
        self.listener.close()
        with self._wake_lock:
            self._wake_r.close()
            self._wake_w.close()
            self._wake_w = None
        _forget(self)
        self.log.record("stopped")
        self._stopped.set()

    # -- stopping ------------------------------------------------------------------------

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Close every connection and the listener, and wait for the loop thread to end.

        Safe to call twice, and from a protocol method (then it returns at once and the
        loop stops at the end of its turn).
        """
        self._stopping = True
        self._wake()
        if threading.get_ident() == self._thread_ident:
            return
        self._thread.join(timeout)
        if self._thread.is_alive():
            self.log.record(
                "error",
                error=RuntimeError(
                    f"the loop was still busy {timeout} s after stop(); "
                    "does a protocol method block (sleep, a blocking socket call)?"
                ),
            )

    def __enter__(self) -> LoopServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:  # no port: notebook output must not change run to run
        state = "running" if self.running else "stopped"
        return f"<LoopServer {self.name!r} on {self.address[0]} ({state})>"


def start_loop_server(
    protocol_factory: Callable[[], Protocol],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    name: str | None = None,
    outbox_limit: int = 1 << 20,
    log_data: bool = True,
    **options,
) -> LoopServer:
    """Listen on ``(host, port)`` and serve every caller from one event-loop thread.

    ``protocol_factory()`` (usually a :class:`Protocol` subclass) makes one protocol per
    caller.  ``outbox_limit`` is how many unsent bytes a caller may have before the loop
    stops reading from it; ``log_data=False`` records connections, hang-ups and errors
    but not every read and send (for measurements).  Other options: ``backlog`` (128),
    ``nodelay`` (True: TCP_NODELAY on every connection), ``read_size`` (65536).

    ``name`` defaults to the factory's name; a running server with the same name is
    stopped first.  Next: connect to ``server.address``, read ``server.log``, ``stop()``.
    """
    if not callable(protocol_factory):
        raise TypeError(f"protocol_factory must make a Protocol, got {protocol_factory!r}")
    name = name or getattr(protocol_factory, "__name__", "loop")
    with _registry_lock:
        old = _running.pop(name, None)
    if old is not None:
        old.stop()
    server = LoopServer(
        protocol_factory,
        name=name,
        host=host,
        port=port,
        outbox_limit=outbox_limit,
        log_data=log_data,
        **options,
    )
    with _registry_lock:
        _running[name] = server
    return server


def start_loop_echo_server(name: str | None = "loop echo", **options) -> LoopServer:
    """The echo server on the event loop (see :func:`start_loop_server` for options)."""
    return start_loop_server(EchoProtocol, name=name, **options)
