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

This module holds the loop: its thread, the selector, accepting, ``call_soon`` and
stopping.  :class:`Protocol`, :class:`Connection` and the loop's work on each connection
(reading, sending the outbox, write interest and backpressure, closing) are in
:mod:`tcplessons.loop_connections`; their names are importable from here too.
"""

from __future__ import annotations

import collections
import selectors
import socket
import threading
import time
from collections.abc import Callable

from .events import EventLog
from .loop_connections import Connection, EchoProtocol, Protocol, _ConnectionServing
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
#: Callers accepted per turn of the loop at most, so a crowd arriving cannot starve the rest.
ACCEPTS_PER_TURN = 64


class LoopServer(_ConnectionServing):
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
