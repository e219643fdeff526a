"""The socket a background server hands to each handler: real, recorded, and wakeable.

A :class:`TrackedSocket` is a plain ``socket.socket`` that notes what passes through it
in the server's :class:`~tcplessons.EventLog`, and that the server can hang up from
another thread on every system (see the class's docstring for how).
"""

from __future__ import annotations

import errno
import socket

from .events import EventLog
from .waiting import DONTWAIT, wait_until_ready

__all__ = ["StoppableListener", "TrackedSocket"]


class TrackedSocket(socket.socket):
    """A real socket that records what passes through it in an :class:`EventLog`.

    The server hands one to your handler; use it exactly like any socket.

    Why it waits before each blocking call: the server must be able to wake a handler
    blocked in ``recv()`` or ``sendall()`` when it hangs up or stops.  ``shutdown()``
    from another thread does that on Linux only (not on Windows), so every blocking
    read or write here first waits until the socket is ready *or* the line's own
    wake-up socket is: :meth:`hang_up` writes to it, and every system wakes up.
    Timeouts you set with ``settimeout()`` are honoured exactly as on a plain socket.
    """

    def _track(self, log: EventLog, line: int, peer) -> TrackedSocket:
        self._log, self._line, self._peer = log, line, peer
        self._closed_logged = False
        # Set when the server itself hung the line up (hang_up(), stop()): then the
        # b"" that recv() returns is our own doing, not the caller hanging up.
        self._hung_up_here = False
        self._wake_r, self._wake_w = socket.socketpair()
        #: Seconds a sendall() may make no progress before it fails (None: no limit).
        self.send_timeout: float | None = None
        return self

    # -- reading -------------------------------------------------------------------------

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if DONTWAIT and flags & DONTWAIT:  # the handler asked not to wait: plain recv()
            data = super().recv(bufsize, flags)
            if not flags & socket.MSG_PEEK:
                self._note_received(data, len(data))
            return data
        while True:
            if not self._wait_readable():
                data = b""  # the server hung up this line: like a hang-up, to the handler
                break
            try:
                data = super().recv(bufsize, flags | self._no_wait())
                break
            except BlockingIOError:
                if not self._no_wait():
                    raise  # the handler's own non-blocking socket: its error to see
        if not flags & socket.MSG_PEEK:
            self._note_received(data, len(data))
        return data

    def recv_into(self, buffer, nbytes: int = 0, flags: int = 0) -> int:
        if DONTWAIT and flags & DONTWAIT:  # the handler asked not to wait
            n = super().recv_into(buffer, nbytes, flags)
            if not flags & socket.MSG_PEEK:
                self._note_received(bytes(memoryview(buffer)[: min(n, 64)]), n)
            return n
        while True:
            if not self._wait_readable():
                n = 0
                break
            try:
                n = super().recv_into(buffer, nbytes, flags | self._no_wait())
                break
            except BlockingIOError:
                if not self._no_wait():
                    raise
        if not flags & socket.MSG_PEEK:
            self._note_received(bytes(memoryview(buffer)[: min(n, 64)]), n)
        return n

    # -- writing -------------------------------------------------------------------------

    def send(self, data, flags: int = 0) -> int:
        asks_no_wait = DONTWAIT and flags & DONTWAIT
        if not asks_no_wait and not self._wait_writable(self.gettimeout()):
            raise _hung_up_error()
        n = super().send(data, flags)
        self._log.record("sent", self._line, nbytes=n, data=bytes(memoryview(data)[: min(n, 64)]))
        return n

    def sendall(self, data, flags: int = 0) -> None:
        view = memoryview(data).cast("B")
        if self.gettimeout() == 0:  # the handler chose non-blocking: plain behaviour
            super().sendall(view, flags)
        else:
            self._send_everything(view, flags)
        self._log.record("sent", self._line, nbytes=view.nbytes, data=bytes(view[:64]))

    def _send_everything(self, view: memoryview, flags: int) -> None:
        """sendall() that the server can interrupt: wait for room, send what fits, repeat.

        ``send_timeout`` (and the socket's own timeout) bound each wait for room, so a
        caller who never reads makes sendall() fail instead of hanging.
        """
        limits = [t for t in (self.gettimeout(), self.send_timeout) if t is not None]
        limit = min(limits) if limits else None
        sent = 0
        while sent < view.nbytes:
            if not self._wait_writable(limit, timed_out=_send_timed_out):
                raise _hung_up_error()
            try:
                # Without MSG_DONTWAIT (Windows) a send to a writable socket returns at
                # once there too: Windows takes the whole buffer whenever it has room.
                sent += super().send(view[sent:], flags | DONTWAIT)
            except (BlockingIOError, InterruptedError):
                continue  # the room we were promised is gone: wait again

    # -- hanging up ----------------------------------------------------------------------

    def hang_up(self) -> None:
        """End this line from the server's side, from any thread.

        A handler blocked in ``recv()`` gets ``b""``; one blocked in ``sendall()`` gets
        an ``OSError``; the caller sees the line go dead.
        """
        self._hung_up_here = True
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass  # already woken, or closed
        try:
            super().shutdown(socket.SHUT_RDWR)  # the caller hears our FIN at once
        except OSError:
            pass

    def close(self) -> None:
        if not getattr(self, "_closed_logged", True) and self.fileno() != -1:
            self._closed_logged = True
            self._log.record("closed", self._line)
        super().close()
        for wake in (getattr(self, "_wake_r", None), getattr(self, "_wake_w", None)):
            if wake is not None:
                wake.close()

    # -- the waiting ---------------------------------------------------------------------

    def _no_wait(self) -> int:
        # A plain blocking socket must not block *after* our wait (another thread may
        # have read the data): ask for "no wait" and wait again if needed.
        return DONTWAIT if self.gettimeout() is None else 0

    def _wait_readable(self) -> bool:
        """False if the line was hung up; TimeoutError after the socket's timeout."""
        if self._hung_up_here:
            return False
        timeout = self.gettimeout()
        if timeout == 0:
            return True  # non-blocking: recv() itself raises BlockingIOError
        ready = wait_until_ready([self, self._wake_r], [], timeout)
        if ready is None:
            raise TimeoutError("timed out")
        return not self._hung_up_here

    def _wait_writable(self, timeout: float | None, timed_out=None) -> bool:
        if self._hung_up_here:
            return False
        if timeout == 0:
            return True
        ready = wait_until_ready([self._wake_r], [self], timeout)
        if ready is None:
            raise (timed_out or _recv_timed_out)()
        return not self._hung_up_here

    def _note_received(self, data: bytes, n: int) -> None:
        if n:
            self._log.record("received", self._line, nbytes=n, data=data)
        elif not self._hung_up_here:
            self._log.record("hung up", self._line)


def _recv_timed_out() -> OSError:
    return TimeoutError("timed out")


def _send_timed_out() -> OSError:
    # What the kernel's own send timeout (SO_SNDTIMEO) raises on Linux and macOS.
    return BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")


def _hung_up_error() -> OSError:
    return BrokenPipeError(errno.EPIPE, "Broken pipe")


class StoppableListener(socket.socket):
    """A listening socket whose ``accept()``, blocked in any thread, :meth:`stop` ends.

    On Linux ``shutdown()`` of a listener wakes a blocked ``accept()``; on macOS it
    raises ``ENOTCONN`` instead, and ``close()`` from another thread wakes nothing on
    Linux.  This listener waits for a caller *or* its wake-up socket, so ``stop()``
    makes ``accept()`` raise ``OSError`` at once, on every system.  Make one with
    :meth:`create`; use it like any listening socket.
    """

    @classmethod
    def create(cls, address=("127.0.0.1", 0), backlog: int = 16) -> StoppableListener:
        plain = socket.create_server(address, backlog=backlog)
        listener = cls(plain.family, plain.type, plain.proto, fileno=plain.detach())
        try:
            listener._wake_r, listener._wake_w = socket.socketpair()
        except OSError:
            socket.socket.close(listener)
            raise
        listener._stopped = False
        return listener

    def accept(self):
        timeout = self.gettimeout()
        if not getattr(self, "_stopped", False) and timeout != 0:
            if wait_until_ready([self, self._wake_r], [], timeout) is None:
                raise TimeoutError("timed out")
        if getattr(self, "_stopped", False):
            raise OSError(errno.EBADF, "the listener was stopped")
        return super().accept()

    def stop(self) -> None:
        """Wake every blocked ``accept()`` (it raises ``OSError``) and close the listener."""
        self._stopped = True
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        super().close()
        for wake in (getattr(self, "_wake_r", None), getattr(self, "_wake_w", None)):
            if wake is not None:
                wake.close()
