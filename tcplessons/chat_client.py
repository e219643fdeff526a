"""Chat members driven from cells: :class:`ChatClient`, :class:`ChatBot` and
:func:`start_bots`.

Each is a real TCP client of a chat server (:func:`~tcplessons.chat.start_chat_server`,
or the event-loop ones in :mod:`tcplessons.loopchat`) with a reader thread that keeps its
transcript.  :class:`~tcplessons.widgets.ChatWindow` is a ChatClient with a window.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Sequence

from .chat_text import WELCOME, clean_text
from .framing import LineSplitter, LineTooLong
from .servers import Server
from .waiting import wait_until_ready

__all__ = ["ChatBot", "ChatClient", "start_bots"]


def _short(line: str, limit: int = 80) -> str:
    return line if len(line) <= limit else f"{line[:limit]}… ({len(line)} characters)"


class ChatClient:
    """A member of a chat room: a real TCP client that joins under ``name``.

    Returns once the server has welcomed it (``ValueError`` with the server's reply if
    the name was refused).  A reader thread keeps :meth:`lines` up to date; cells call
    :meth:`wait_for` before printing, so the output never depends on thread timing.
    ``reads=False`` makes a member who never reads (its buffers fill up).
    """

    #: How many lines the transcript keeps.
    KEEP = 1000

    def __init__(
        self,
        server: Server | tuple[str, int],
        name: str,
        *,
        reads: bool = True,
        timeout: float = 5.0,
        receive_buffer: int | None = None,
    ):
        self.name = name
        self.timeout = timeout
        self._changed = threading.Condition()
        self._lines: list[str] = []
        self._closed = False
        self._reader: threading.Thread | None = None
        address = getattr(server, "address", server)
        # The reader thread waits on this too, so close() and vanish() wake it on every
        # system (shutdown() from another thread wakes it on Linux only).
        self._wake_r, self._wake_w = socket.socketpair()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if receive_buffer:  # before connect(), so the window is small from the start
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(timeout)
            sock.connect(address)
            self._sock = sock
            self._buffer = LineSplitter(max_line=None)
            sock.sendall(f"{name}\n".encode())
            self._handshake()
        except BaseException:
            for unused in (sock, self._wake_r, self._wake_w):
                unused.close()
            raise
        if reads:
            self._reader = threading.Thread(
                target=self._read_loop, name=f"tcplessons chat member {name}", daemon=True
            )
            self._reader.start()

    def _handshake(self) -> None:
        pending: list[str] = []
        while True:  # bounded: each recv() has the socket's timeout
            data = self._sock.recv(65536)
            if not data:
                raise ConnectionError(f"the server hung up before {self.name!r} joined")
            pending += [clean_text(line) for line in self._buffer.feed(data)]
            while pending:
                line = pending.pop(0)
                if line.startswith("!"):
                    raise ValueError(f"the server refused the name {self.name!r}: {line}")
                if line == WELCOME:
                    continue
                self._add(line)
                if line.startswith("* welcome,"):
                    for rest in pending:
                        self._add(rest)
                    return

    def _read_loop(self) -> None:
        while not self._closed:
            try:
                wait_until_ready([self._sock, self._wake_r], [], None)
                if self._closed:
                    return
                data = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                data = b""
            try:
                lines = self._buffer.feed(data)
            except LineTooLong:
                lines = []
            for line in lines:
                self._add(clean_text(line))
            if not data:
                if not self._closed:
                    self._add("* (the server hung up)")
                return

    # One locked path for every new line (a widget hooks in here).
    def _add(self, line: str) -> None:
        with self._changed:
            self._lines.append(line)
            if len(self._lines) > self.KEEP:
                del self._lines[: len(self._lines) - self.KEEP]
            self._show(line)
            self._changed.notify_all()

    def _show(self, line: str) -> None:
        """Called with the lock held for each new line; widgets override it."""

    # -- what a cell does --------------------------------------------------------------

    def say(self, text: str) -> None:
        """Send one message (it appears in your own transcript as ``NAME: text``)."""
        if "\n" in text:
            raise ValueError("one message is one line: leave out the newline")
        self._add(f"{self.name}: {text}")
        self._sock.sendall(f"{text}\n".encode())

    send = say

    def lines(self) -> list[str]:
        """Every line so far: what arrived, and what this member said."""
        with self._changed:
            return list(self._lines)

    def text(self, last: int | None = None) -> str:
        """The transcript as text (the ``last`` lines only, if given), for print()."""
        lines = self.lines()
        if last is not None:
            lines = lines[-last:]
        return "\n".join(lines)

    def has(self, line: str) -> bool:
        """Whether ``line`` is in the transcript."""
        with self._changed:
            return line in self._lines

    def wait_for(self, line: str, count: int = 1, timeout: float | None = None) -> None:
        """Block until ``line`` has arrived ``count`` times; ``TimeoutError`` otherwise."""
        timeout = self.timeout if timeout is None else timeout
        with self._changed:
            if self._changed.wait_for(lambda: self._lines.count(line) >= count, timeout):
                return
            seen = [_short(seen) for seen in self._lines[-5:]]
        raise TimeoutError(
            f"{self.name} waited {timeout} s for {_short(line)!r}; last lines: {seen}"
        )

    def leave(self) -> None:
        """Hang up politely (the room announces ``* NAME left``)."""
        self.close()

    def vanish(self) -> None:
        """Disappear abruptly: the line is reset (RST) instead of hung up politely.

        In real life a crashed program's operating system hangs up for it, and a closed
        laptop lid or lost Wi-Fi sends nothing at all (the server finds out only minutes
        later, when a send times out).  A reset is the abrupt case a notebook can show at
        once: SO_LINGER with a zero timeout makes close() send an RST instead of the
        polite FIN, so the server's next recv() or send() on this line fails.
        """
        self._stop_reader()  # tells the server nothing
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self._sock.close()

    def close(self) -> None:
        """Hang up and stop the reader thread.  Safe to call twice."""
        try:
            self._sock.shutdown(socket.SHUT_WR)  # "I have finished": the server reads b""
        except OSError:
            pass
        self._stop_reader()
        self._sock.close()

    def _stop_reader(self) -> None:
        """Wake the reader thread with the wake-up socket and wait for it to end."""
        self._closed = True
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass  # already woken and closed
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(self.timeout)
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class ChatBot(ChatClient):
    """A member that does only what a cell tells it: ``say()``, ``leave()``, ``vanish()``.

    It keeps the room alive in a notebook while the output stays the same on every run.
    """


def start_bots(server: Server | tuple[str, int], names: Sequence[str], **options) -> list[ChatBot]:
    """Join one :class:`ChatBot` per name, in order; returns them in the same order."""
    return [ChatBot(server, name, **options) for name in names]
