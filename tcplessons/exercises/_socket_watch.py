"""Watching the sockets learner code creates and binds: :class:`SocketWatch`.

For code that opens its own socket, where the check cannot hand over one of the sockets
of :mod:`._check_sockets`.  Pass a watch to :class:`~.tools.LearnerCall` or
:func:`~.tools.call_with_timeout` (``watch=``); both, and :class:`SocketWatch` itself,
are importable from :mod:`tcplessons.exercises.tools`.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

from ._check_sockets import ShortSendSocket

__all__ = ["SocketWatch"]

#: thread ident -> the watch of the learner call running in that thread.
_watched_threads: dict[int, SocketWatch] = {}
_hook_lock = threading.Lock()
_hook_installed = False


def _audit(event: str, args: tuple) -> None:
    # Called by Python for every audited event in the process: return at once unless a
    # learner call is being watched right now.
    if not _watched_threads or not event.startswith("socket."):
        return
    watch = _watched_threads.get(threading.get_ident())
    if watch is not None:
        watch._saw(event, args)


def _install_hook() -> None:
    global _hook_installed
    with _hook_lock:
        if not _hook_installed:
            sys.addaudithook(_audit)  # cannot be removed; it does nothing unless watching
            _hook_installed = True


class _PassesChangesToSocket(type):
    """The type of a watched socket's class: learner code that changes ``type(sock)``
    believes it changes ``socket.socket``, so the change is made there too (where the
    grader's integrity check sees it), as well as on the watched class."""

    def __setattr__(cls, name: str, value: Any) -> None:
        setattr(socket.socket, name, value)
        super().__setattr__(name, value)


class SocketWatch:
    """What the sockets learner code creates and binds while a check watches it.

    Pass it to :class:`LearnerCall` / :func:`call_with_timeout` (``watch=``); the
    sockets created in that call's thread are in ``created``, every ``bind()`` in
    ``binds`` as ``(socket, address)``.  With ``short_send=True`` every plain socket the
    learner's code creates writes at most 3 bytes per ``send()``, as a busy operating
    system may: ``send()`` where ``sendall()`` is needed then fails every time, on every
    platform.  It uses Python's audit events (``socket.__new__``, ``socket.bind``), so
    nothing in the ``socket`` module is patched and other threads are not affected.
    """

    def __init__(self, *, short_send: bool = False):
        _install_hook()
        self.short_send = short_send
        self.created: list[socket.socket] = []
        self.binds: list[tuple[socket.socket, Any]] = []
        self.shutdowns: list[int] = []  # the ``how`` of every shutdown() call
        self._class = self._watched_class()

    def _watched_class(self) -> type:
        """The class a plain socket created by the learner's code takes on: a
        ``socket.socket`` that tells this watch of each ``shutdown()`` and, with
        ``short_send``, writes at most 3 bytes per ``send()``.  No ``__dict__``
        (``__slots__ = ()``), so a plain socket can take this class in place."""
        watch = self

        class WatchedSocket(socket.socket, metaclass=_PassesChangesToSocket):
            __slots__ = ()

            def shutdown(self, how: int) -> None:
                watch.shutdowns.append(how)
                super().shutdown(how)

            if watch.short_send:

                def send(self, data, flags: int = 0) -> int:
                    return super().send(memoryview(data).cast("B")[: ShortSendSocket.limit], flags)

        # Named as errors name a socket; set on this class only (not passed to socket.socket).
        for name, value in (
            ("__qualname__", "socket"),
            ("__name__", "socket"),
            ("__module__", "socket"),
        ):
            type.__setattr__(WatchedSocket, name, value)
        return WatchedSocket

    def _saw(self, event: str, args: tuple) -> None:
        if event == "socket.__new__":
            sock = args[0]
            self.created.append(sock)
            if type(sock) is socket.socket:
                sock.__class__ = self._class
        elif event == "socket.bind":
            self.binds.append((args[0], args[1]))

    def ports_bound(self, sock: socket.socket) -> list[int]:
        """The ports the learner's code passed to ``sock.bind()``."""
        ports = []
        for bound, address in self.binds:
            if bound is sock and isinstance(address, tuple) and len(address) >= 2:
                ports.append(address[1])
        return ports

    def timeouts(self) -> list[float | None]:
        """The timeouts of the sockets the learner's code created (still open or not)."""
        found = []
        for sock in self.created:
            with contextlib.suppress(OSError):
                found.append(sock.gettimeout())
        return found

    @contextlib.contextmanager
    def this_thread(self) -> Iterator[None]:
        """Watch the current thread for as long as the block runs."""
        ident = threading.get_ident()
        _watched_threads[ident] = self
        try:
            yield
        finally:
            _watched_threads.pop(ident, None)
