"""The course's chat room: a line-based chat server that ``nc`` and telnet can join.

The protocol, one UTF-8 line at a time (``\\n`` ends a line; a ``\\r`` before it is
ignored, so telnet works too):

- the server greets a caller with ``* welcome: type your name and press Enter``;
- the first line a caller sends is its name.  An empty name, a name with spaces, a name
  longer than 32 characters or a name already in use gets an error line starting with
  ``!`` and the caller may try again (5 tries, then the server hangs up);
- once in the room, the caller gets ``* welcome, NAME!`` and every later line it sends
  is a message (a message someone sends at that very moment may arrive just before the
  welcome);
- members receive ``* NAME joined``, ``NAME: TEXT`` and ``* NAME left``, one per line.
  Nobody receives their own messages back.

Start it, join it, and watch it from a cell::

    server = start_chat_server()
    print(server.nc_command())            # paste this into a terminal to join
    ada = ChatBot(server, "ada")          # a member driven from cells
    window = ChatWindow(server, "you")    # a member with a chat window (a widget)
    display(window)
    ada.say("hello")
    window.wait_for("ada: hello")         # wait for it, then print the transcript
    print(window.text())

``start_chat_server(room=ChatRoom())`` runs *your* room (lesson 06's exercise) instead
of the course's :class:`Room`.

What the server protects the others from: control characters (escape sequences, bell,
NUL) are removed and invalid UTF-8 becomes U+FFFD before anyone sees a line; a line over
64 KiB gets an error line and its caller is hung up on (the server never holds more than
one such line per caller); a member who vanishes is dropped and announced as left, and
so is one who never reads, once 256 KiB wait for it or a send to it makes no progress
for the send timeout.  Neither delays what the others receive.

This module holds the server (reading each caller's lines and driving the room); its
neighbours hold the rest, and every public name is importable from here too: the room in
:mod:`tcplessons.chat_room`, the text and name rules in :mod:`tcplessons.chat_text`, the
members driven from cells in :mod:`tcplessons.chat_client`.
"""

from __future__ import annotations

import socket
import struct
import sys
import threading

from .chat_client import ChatBot, ChatClient, start_bots
from .chat_room import MAX_QUEUE, Room
from .chat_text import MAX_LINE, NAME_TRIES, WELCOME, _check_name, clean_text
from .framing import LineSplitter, LineTooLong
from .servers import Server, start_server

__all__ = [
    "ChatBot",
    "ChatClient",
    "Room",
    "clean_text",
    "start_bots",
    "start_chat_server",
]

#: Seconds a send to one member may block before that member is dropped.
SEND_TIMEOUT = 1.0


def _limit_sends(conn: socket.socket, send_timeout: float | None, send_buffer: int | None) -> None:
    """Make a blocked send give up after ``send_timeout`` s, without a timeout on recv.

    The server's TrackedSocket bounds each wait of ``sendall()`` by ``send_timeout``
    (``BlockingIOError`` once no byte could be sent for that long, on every system);
    SO_SNDTIMEO, the kernel's own send timeout, bounds a plain blocking ``send()``.  The
    reader thread keeps a recv() without a timeout either way.
    """
    # Chat lines are small and someone is waiting for each: send them at once instead of
    # letting Nagle's algorithm hold a line back until the previous one is acknowledged.
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if send_buffer:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    if send_timeout is None:
        return
    if hasattr(conn, "send_timeout"):  # the server's TrackedSocket bounds sendall() itself
        conn.send_timeout = send_timeout
    seconds = int(send_timeout)
    micros = int(round((send_timeout - seconds) * 1_000_000))
    try:
        if sys.platform == "win32":
            value = struct.pack("I", int(send_timeout * 1000))
        else:
            value = struct.pack("ll", seconds, micros)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)
    except (OSError, struct.error):
        pass


class _ChatService:
    """The handler of one chat server: reads each caller's lines and drives the room."""

    def __init__(self, room, max_line: int, send_timeout: float | None, send_buffer: int | None):
        self.room = room
        self.max_line = max_line
        self.send_timeout = send_timeout
        self.send_buffer = send_buffer
        self._names_lock = threading.Lock()
        self._names: set = set()  # names in use, whatever room class is running

    def _claim(self, name: str) -> str | None:
        problem = _check_name(name)
        if problem:
            return problem
        with self._names_lock:
            if name in self._names:
                return f"the name {name!r} is taken: try another"
            self._names.add(name)
        return None

    def _call_room(self, conn, method: str, *args) -> bool:
        """Call the room; a room that raises is recorded in the log, never printed."""
        try:
            getattr(self.room, method)(*args)
            return True
        except Exception as exc:
            log = getattr(conn, "_log", None)
            if log is not None:
                log.record("error", getattr(conn, "_line", 0), error=exc)
            return False

    def handle(self, conn: socket.socket) -> None:
        _limit_sends(conn, self.send_timeout, self.send_buffer)
        buffer = LineSplitter(max_line=None, max_bytes=self.max_line)
        name: str | None = None
        joined = False
        tries = 0
        conn.sendall(f"{WELCOME}\n".encode())
        try:
            while True:  # ends when the caller hangs up (or stop() shuts the line)
                data = conn.recv(65536)
                try:
                    lines = buffer.feed(data)
                except LineTooLong:
                    conn.sendall(
                        f"! line too long (over {self.max_line} bytes): goodbye\n".encode()
                    )
                    return
                for raw in lines:
                    if name is None:
                        candidate = clean_text(raw).strip()
                        problem = self._claim(candidate)
                        if problem:
                            tries += 1
                            if tries >= NAME_TRIES:
                                conn.sendall(f"! {problem}; too many tries: goodbye\n".encode())
                                return
                            conn.sendall(f"! {problem}\n".encode())
                            continue
                        name = candidate
                        joined = self._call_room(conn, "join", name, conn)
                        if not joined:
                            conn.sendall(b"! the room is not working: goodbye\n")
                            return
                        conn.sendall(f"* welcome, {name}!\n".encode())
                    else:
                        text = clean_text(raw)
                        if text.strip():  # blank lines are not messages
                            self._call_room(conn, "broadcast", name, text)
                if not data:
                    return
        finally:
            if joined:
                self._call_room(conn, "leave", name)
            if name is not None:
                with self._names_lock:
                    self._names.discard(name)


def start_chat_server(
    room=None,
    name: str = "chat",
    *,
    max_line: int = MAX_LINE,
    send_timeout: float | None = SEND_TIMEOUT,
    send_buffer: int | None = None,
    max_queue: int = MAX_QUEUE,
    backlog: int = 256,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Server:
    """Start a chat server (see this module's docstring for the protocol).

    ``room`` is any object with ``join(name, conn)``, ``leave(name)`` and
    ``broadcast(sender, text)``: yours from lesson 06, or by default the course's
    :class:`Room`.  Every member's socket gets a send deadline: a send to a member
    who never reads gives up after ``send_timeout`` seconds without progress, with an
    ``OSError`` (``BlockingIOError``) — in your room too, whose ``sendall()`` then raises
    and rule 2 drops that member.  ``send_buffer`` sets each member's kernel send buffer
    (bytes); ``max_queue`` is how many bytes may wait in a member's outbox (the course's
    room) before it is dropped; ``backlog`` is the listen queue of callers not yet
    accepted (lesson 01).  Returns the same :class:`~tcplessons.Server` as
    :func:`start_server`, with the room as ``.room``.
    Next: ``server.nc_command()``, :class:`ChatBot`, :class:`ChatWindow`.
    """
    if room is None:
        room = Room(max_queue=max_queue)
    for method in ("join", "leave", "broadcast"):
        if not callable(getattr(room, method, None)):
            raise TypeError(f"room needs a {method}() method; got {room!r}")
    service = _ChatService(room, max_line, send_timeout, send_buffer)

    def chat(conn: socket.socket) -> None:
        service.handle(conn)

    server = start_server(chat, name, host=host, port=port, backlog=backlog)
    server.room = room
    if callable(getattr(room, "close", None)):
        server.on_stop(room.close)
    return server
