"""The awkward sockets checks hand to learner code: real connections that change one
behaviour, so a wrong assumption fails on every run, not only on a congested network.

- :class:`CheckSocket` — tells the check's sender how the learner's code reads (every
  fake socket of the checks derives from it).
- :class:`ShortRecvSocket` — ``recv`` returns a few bytes at a time.
- :class:`ShortSendSocket` — ``send`` writes a few bytes at a time.
- :func:`adopt` — move a real socket's connection into one of these classes.

Importable from :mod:`tcplessons.exercises.tools`, with the rest of the checks' building
blocks; :mod:`._socket_watch` gives the sockets learner code creates itself the
``ShortSendSocket`` behaviour.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["CheckSocket", "ShortRecvSocket", "ShortSendSocket", "adopt"]


def adopt(cls, sock: socket.socket, **attributes: Any):
    """Move ``sock``'s connection into a new socket of class ``cls`` (a ``socket.socket``
    subclass that changes one behaviour), with ``attributes`` set on it and ``sock``'s
    timeout kept.  ``sock`` is detached: use (and close) only the returned socket."""
    timeout = sock.gettimeout()
    new = cls(fileno=sock.detach())
    new.settimeout(timeout)
    if issubclass(cls, CheckSocket):
        new.starved = threading.Event()
    for name, value in attributes.items():
        setattr(new, name, value)
    return new


class CheckSocket(socket.socket):
    """A real socket handed to learner code that tells the check how it reads.

    - ``starved`` (an Event) is set when the learner's code calls ``recv()`` while
      nothing is waiting: it has read everything sent so far.  A check's sender waits
      for that before sending the rest (see :func:`send_in_chunks`), so the data is never
      all queued before the learner's code reads, and a reader that stops when nothing
      is waiting (non-blocking mode, a short timeout) stops at that point on every run.
    - ``gave_up`` is True once a ``recv()`` raised ``BlockingIOError`` or a timeout.

    Every fake socket of the checks derives from it; build one with :func:`adopt`.
    """

    starved: threading.Event
    gave_up = False
    #: Bytes the learner's recv() calls have returned so far.
    delivered = 0
    #: What the running recv() needs before it returns: delivered + 1, or + n with
    #: MSG_WAITALL.
    wants = 0
    #: How many recv() calls of the learner's code are running right now.
    reading_now = 0
    #: While the check's sender waits for the reader: how many bytes it has written in
    #: all (None otherwise).  Comparing counts costs nothing per recv(): recv(1) over a
    #: megabyte stays as fast as on a plain socket.
    sent_mark: int | None = None

    def wait_for_reader(
        self, sent: int, timeout: float, finished: Callable[[], bool] = lambda: False
    ) -> None:
        """Wait until the learner's code has read all ``sent`` bytes the check wrote and
        waits for more (or ``finished()``, or ``timeout`` seconds).  Called by the
        check's sender."""
        self.sent_mark = sent
        deadline = time.monotonic() + timeout
        while not self.starved.wait(0.005) and not finished() and time.monotonic() < deadline:
            # A blocking (or timeout) read in progress with everything read: it waits.
            # A non-blocking read is judged by its own result instead (see _failed).
            if self.reading_now and self.wants > sent and self.gettimeout() != 0.0:
                self.starved.set()
        self.sent_mark = None

    def _reading(self, bufsize: int, flags: int) -> None:
        """Before a recv(): a blocking read that wants more than was sent will wait."""
        self.wants = self.delivered + (max(bufsize, 1) if flags & _WAITALL else 1)
        mark = self.sent_mark
        if mark is not None and self.wants > mark and self.gettimeout() != 0.0:
            self.starved.set()

    def _failed(self, exc: BaseException) -> None:
        """After a recv() that raised: a non-blocking read found nothing waiting (only now
        may the sender go on, or that read could have found the rest already there)."""
        if isinstance(exc, (BlockingIOError, socket.timeout)):
            self.gave_up = True
            if self.sent_mark is not None:
                self.starved.set()

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self._reading(bufsize, flags)
        self.reading_now += 1
        try:
            data = super().recv(bufsize, flags)
        except OSError as exc:
            self._failed(exc)
            raise
        finally:
            self.reading_now -= 1
        if not flags & _PEEK:
            self.delivered += len(data)
        return data

    def recv_into(self, buffer, nbytes: int = 0, flags: int = 0) -> int:
        self._reading(nbytes or memoryview(buffer).nbytes, flags)
        self.reading_now += 1
        try:
            count = super().recv_into(buffer, nbytes, flags)
        except OSError as exc:
            self._failed(exc)
            raise
        finally:
            self.reading_now -= 1
        if not flags & _PEEK:
            self.delivered += count
        return count


_PEEK = getattr(socket, "MSG_PEEK", 2)
_WAITALL = getattr(socket, "MSG_WAITALL", 0)


class ShortRecvSocket(CheckSocket):
    """A real socket whose ``recv(n)`` returns at most ``limit`` bytes (never more than n).

    ``recv`` may always return fewer bytes than asked; code that assumes otherwise fails
    here every time, not only on a congested network.  ``MSG_WAITALL`` is honoured.
    """

    limit = 1

    @classmethod
    def adopt(cls, sock: socket.socket, limit: int = 1) -> ShortRecvSocket:
        """``sock``'s connection in a ShortRecvSocket (``sock`` itself is then unusable)."""
        return adopt(cls, sock, limit=limit)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if not flags & getattr(socket, "MSG_WAITALL", 0):
            bufsize = min(bufsize, self.limit)
        return super().recv(bufsize, flags)

    def recv_into(self, buffer, nbytes: int = 0, flags: int = 0) -> int:
        if not flags & getattr(socket, "MSG_WAITALL", 0):
            size = nbytes or memoryview(buffer).nbytes
            nbytes = min(size, self.limit)
        return super().recv_into(buffer, nbytes, flags)


class ShortSendSocket(CheckSocket):
    """A real socket whose ``send(data)`` writes at most ``limit`` bytes and returns that,
    as an operating system may: the only way to catch ``send()`` where ``sendall()`` is
    needed on a fast loopback.  ``sendall`` still sends everything, as it must.
    """

    limit = 3

    @classmethod
    def adopt(cls, sock: socket.socket, limit: int = 3) -> ShortSendSocket:
        return adopt(cls, sock, limit=limit)

    def send(self, data, flags: int = 0) -> int:
        return super().send(memoryview(data).cast("B")[: self.limit], flags)
