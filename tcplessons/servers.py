"""Background TCP servers for notebooks: ready on return, loopback only, quick to stop.

Start one, talk to it from the next cell, stop it::

    server = start_echo_server()          # listening before this line returns
    with socket.create_connection(server.address) as sock:
        sock.sendall(b"hello")
        print(sock.recv(1024))            # b'hello'
    server.stop()                         # the listener, every line, every thread: gone

``start_server(handler)`` runs your own ``handler(conn)`` for each caller, in a thread of
its own (or one caller at a time with ``one_at_a_time=True``).  What the server sees is
recorded in ``server.log`` (see :mod:`tcplessons.events`); server threads never print.

Starting a server under a name that is already running stops the old one first, so
re-running a cell is safe.  ``stop_all()`` stops every server; so does the end of the
kernel.
"""

from __future__ import annotations

import atexit
import selectors
import socket
import struct
import sys
import threading
from collections.abc import Callable

from .events import EventLog
from .tracked import TrackedSocket

__all__ = [
    "Server",
    "TrackedSocket",
    "echo_handler",
    "running_servers",
    "start_echo_server",
    "start_server",
    "stop_all",
]

Handler = Callable[[socket.socket], None]

#: How long stop() waits for a handler to notice its line was shut down.
STOP_TIMEOUT = 2.0


class _Line:
    """One accepted connection: its number, socket and the thread serving it."""

    def __init__(self, number: int, sock: TrackedSocket, peer):
        self.number, self.sock, self.peer = number, sock, peer
        self.thread: threading.Thread | None = None


class Server:
    """A listening socket with an accept loop in a daemon thread.

    Use :func:`start_server` or :func:`start_echo_server` rather than this class.
    ``address`` is the real ``(host, port)``; ``log`` is the :class:`EventLog`.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        name: str,
        host: str = "127.0.0.1",
        port: int = 0,
        backlog: int = 16,
        one_at_a_time: bool = False,
    ):
        self.name = name
        self.handler = handler
        self.one_at_a_time = one_at_a_time
        self.log = EventLog()
        self._lock = threading.Lock()
        self._lines: dict[int, _Line] = {}
        self._handler_threads: list[threading.Thread] = []
        self._count = 0
        self._stopping = False
        self._stopped = threading.Event()
        self._on_stop: list[Callable[[], None]] = []

        # Bind and listen *here*, in the caller's thread: when this constructor returns,
        # the kernel already queues callers in the backlog, so nobody has to sleep().
        self.listener = socket.create_server((host, port), backlog=backlog)
        try:
            self.listener.setblocking(False)
            self.address: tuple[str, int] = self.listener.getsockname()[:2]
            # A socket pair lets stop() wake the accept loop at once, on every system
            # (closing a socket from another thread does not wake a blocked accept() on
            # Linux, and shutdown() of a listening socket fails on macOS).
            self._wake_r, self._wake_w = socket.socketpair()
        except BaseException:
            self.listener.close()
            raise
        self.log.record("listening")
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"tcplessons {name} accept", daemon=True
        )
        self._accept_thread.start()

    # -- what a cell may ask -------------------------------------------------------------

    @property
    def running(self) -> bool:
        return not self._stopped.is_set()

    @property
    def port(self) -> int:
        return self.address[1]

    def open_lines(self) -> list[int]:
        """Numbers of the lines whose handler is still running."""
        with self._lock:
            return sorted(self._lines)

    def hang_up(self, number: int) -> bool:
        """Hang up line ``number`` from the server's side; False if it is not open.

        The handler's ``recv()`` then returns ``b""`` and the caller sees the line go dead.
        """
        with self._lock:
            line = self._lines.get(number)
        if line is None:
            return False
        line.sock.hang_up()
        return True

    def waiting(self) -> int | None:
        """Callers waiting in the backlog, not yet accepted (None where not measurable).

        Linux reports the queue length of a listening socket in TCP_INFO's ``unacked``;
        macOS and Windows have no such reading, so nothing in the course depends on it
        (the :class:`~tcplessons.Switchboard` counts the calls it rang itself).
        """
        tcp_info = getattr(socket, "TCP_INFO", None)
        if tcp_info is None or not sys.platform.startswith("linux") or not self.running:
            return None
        try:
            info = self.listener.getsockopt(socket.IPPROTO_TCP, tcp_info, 32)
        except OSError:
            return None
        return struct.unpack_from("I", info, 24)[0]

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` in stop(), once every line is shut down and its handler has
        finished — for helpers that run threads of their own (the chat room's writers)."""
        self._on_stop.append(callback)

    def nc_command(self) -> str:
        """The terminal command that joins this server on this computer.

        ``nc -N 127.0.0.1 PORT`` with the ``nc`` of Debian and Ubuntu (``-N``: end of
        input, Ctrl+D, shuts down the sending side, like ``shutdown(SHUT_WR)``),
        ``nc 127.0.0.1 PORT`` on macOS, and ``python -m tcplessons nc 127.0.0.1 PORT``
        where there is no such ``nc`` (Windows): see :mod:`tcplessons.nc`.
        """
        from .nc import nc_command

        return nc_command(*self.address)

    # -- the threads ---------------------------------------------------------------------

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self.listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r or self._stopping:
                        return
                    try:
                        conn, peer = self.listener.accept()
                        line = self._add_line(conn, peer)
                    except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                        continue  # the caller gave up before we answered
                    except OSError as exc:  # e.g. out of file descriptors
                        self.log.record("error", error=exc)
                        if self._wait_for_wake(selector, 0.1):
                            return
                        continue
                    if line is None:
                        return
                    if self.one_at_a_time:
                        self._serve(line)  # everyone else waits in the backlog
                    else:
                        line.thread = threading.Thread(
                            target=self._serve,
                            args=(line,),
                            name=f"tcplessons {self.name} line {line.number}",
                            daemon=True,
                        )
                        line.thread.start()
                        self._handler_threads = [
                            t for t in self._handler_threads if t.is_alive()
                        ] + [line.thread]

    def _wait_for_wake(self, selector, seconds: float) -> bool:
        return any(key.fileobj is self._wake_r for key, _ in selector.select(seconds))

    def _add_line(self, conn: socket.socket, peer) -> _Line | None:
        conn.setblocking(True)
        with self._lock:
            if self._stopping:
                conn.close()
                return None
            sock = TrackedSocket(fileno=conn.detach())
            try:
                sock._track(self.log, self._count + 1, peer)
            except OSError:  # no descriptor left for its wake-up socket
                socket.socket.close(sock)
                raise  # the accept loop records it, as for a failed accept()
            self._count += 1
            line = _Line(self._count, sock, peer)
            self._lines[line.number] = line
        self.log.record("connected", line.number, peer=peer)
        return line

    def _serve(self, line: _Line) -> None:
        try:
            self.handler(line.sock)
        except Exception as exc:
            # Captured, never printed: a traceback from a thread would land in a random
            # cell.  A line we shut down ourselves in stop() is not the handler's fault.
            if not (self._stopping and isinstance(exc, OSError)):
                self.log.record("error", line.number, error=exc)
        finally:
            # Forget the line before closing it, so hang_up(n) never answers True for a
            # line whose "closed" event is already in the log.
            with self._lock:
                self._lines.pop(line.number, None)
            line.sock.close()

    # -- stopping ------------------------------------------------------------------------

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Close the listener and every line, and wait for every thread to finish.

        Safe to call twice.  A handler that ignores its closed line for ``timeout``
        seconds is recorded as an error and left behind (Python cannot kill a thread).
        """
        with self._lock:
            if self._stopping:
                already = True
            else:
                already, self._stopping = False, True
                lines = list(self._lines.values())
        if already:
            self._stopped.wait(timeout)
            return
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        # Each line's wake-up socket wakes a handler blocked in recv() (it gets b"") or
        # sendall() (an OSError), on every system: see TrackedSocket.
        for line in lines:
            line.sock.hang_up()
        me = threading.current_thread()
        if self._accept_thread is not me:
            self._accept_thread.join(timeout)
        # Every handler thread, also one that returned just before stop() and has left
        # the open lines, but may still be closing its line.
        for thread in self._handler_threads:
            if thread is not me:
                thread.join(timeout)
        for line in lines:
            if line.thread is not None and line.thread is not me and line.thread.is_alive():
                self.log.record(
                    "error",
                    line.number,
                    error=RuntimeError(
                        f"handler still running {timeout} s after stop(); "
                        "does it loop without checking recv() for b''?"
                    ),
                )
            line.sock.close()
        for callback in self._on_stop:
            try:
                callback()
            except Exception as exc:  # captured like a handler's error, never printed
                self.log.record("error", error=exc)
        self.listener.close()
        self._wake_r.close()
        self._wake_w.close()
        _forget(self)
        self.log.record("stopped")
        self._stopped.set()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:  # no port: notebook output must not change run to run
        state = "running" if self.running else "stopped"
        return f"<Server {self.name!r} on {self.address[0]} ({state})>"


# -- the registry of running servers ------------------------------------------------------

_registry_lock = threading.Lock()
_running: dict[str, Server] = {}


def _forget(server: Server) -> None:
    with _registry_lock:
        if _running.get(server.name) is server:
            del _running[server.name]


def running_servers() -> list[Server]:
    """Every server started by :func:`start_server` that has not been stopped."""
    with _registry_lock:
        return list(_running.values())


def stop_all() -> None:
    """Stop every running server (also called when the kernel exits)."""
    for server in running_servers():
        server.stop()


atexit.register(stop_all)


def start_server(
    handler: Handler,
    name: str | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    backlog: int = 16,
    one_at_a_time: bool = False,
) -> Server:
    """Listen on ``(host, port)`` and call ``handler(conn)`` for every caller.

    The handler owns ``conn`` (a real socket): it reads, writes, and returns when done;
    the server closes ``conn`` afterwards if the handler did not.  Each caller gets a
    thread of its own unless ``one_at_a_time=True`` (then callers wait in the backlog).

    ``name`` defaults to the handler's name; a running server with the same name is
    stopped first.  The port defaults to 0 (the operating system picks a free one): read
    the real address from ``server.address``.  Next: connect to it, then read
    ``server.log``.
    """
    if not callable(handler):
        raise TypeError(f"handler must be a function taking a socket, got {handler!r}")
    name = name or getattr(handler, "__name__", "server")
    with _registry_lock:
        old = _running.pop(name, None)
    if old is not None:
        old.stop()
    server = Server(
        handler, name=name, host=host, port=port, backlog=backlog, one_at_a_time=one_at_a_time
    )
    with _registry_lock:
        _running[name] = server
    return server


def echo_handler(conn: socket.socket) -> None:
    """Send back every byte received, unchanged, until the caller hangs up."""
    while True:
        data = conn.recv(65536)
        if not data:  # b"" means the caller hung up
            return
        conn.sendall(data)


def start_echo_server(name: str | None = "echo", **options) -> Server:
    """Start the course's echo server (see :func:`start_server` for the options)."""
    return start_server(echo_handler, name, **options)
