"""The course's chat room on an event loop: one thread for every member.

The same protocol as :mod:`tcplessons.chat` (greeting, names, ``* NAME joined``,
``NAME: TEXT``, ``* NAME left``; ``nc`` can join), served two more ways:

- :func:`start_loop_chat_server` — by the selectors core (:mod:`tcplessons.eventloop`);
- :func:`start_async_chat_server` — by ``asyncio`` streams (:mod:`tcplessons.asyncserver`).

Nothing here needs a lock: every member's code runs in the loop's one thread, so the room
is only ever touched by one piece of code at a time.  Sending never blocks: a line is
added to each member's outbox, and a member whose outbox passes ``max_queue`` bytes (it is
not reading) is dropped and announced as left.

What one member's line costs is the same in all three servers (a line per member); what
differs is what waits: a thread per member, or one loop for all.  Lesson 07 measures it.
"""

from __future__ import annotations

import asyncio

from .asyncserver import AsyncServer, start_async_server
from .chat_room import MAX_QUEUE
from .chat_text import MAX_LINE, NAME_TRIES, WELCOME, _check_name, clean_text
from .eventloop import Connection, LoopServer, Protocol, start_loop_server
from .framing import LineSplitter, LineTooLong

__all__ = ["EventRoom", "start_async_chat_server", "start_loop_chat_server"]


class EventRoom:
    """A chat room for one thread: ``join``, ``leave``, ``broadcast`` and ``names``.

    A member is anything with ``write(data)``, ``pending()`` (bytes not yet sent) and
    ``drop()`` (hang up at once).
    """

    def __init__(self, max_queue: int = MAX_QUEUE):
        self.max_queue = max_queue
        self.members: dict[str, object] = {}

    def names(self) -> list[str]:
        return sorted(self.members)

    def join(self, name: str, member) -> None:
        self._send_all(f"* {name} joined\n")
        self.members[name] = member

    def leave(self, name: str) -> None:
        if self.members.pop(name, None) is not None:
            self._send_all(f"* {name} left\n")

    def broadcast(self, sender: str, text: str) -> None:
        self._send_all(f"{sender}: {text}\n", skip=sender)

    def _send_all(self, line: str, skip: str | None = None) -> None:
        data = line.encode("utf-8")
        slow = []
        for name, member in self.members.items():
            if name == skip:
                continue
            if member.pending() + len(data) > self.max_queue:
                slow.append(name)  # not reading: give up on it (after this loop)
            else:
                member.write(data)
        for name in slow:
            member = self.members.get(name)
            if member is not None:
                self.leave(name)
                member.drop()

    def __repr__(self) -> str:
        return "<EventRoom>"


class _Session:
    """One member's side of the protocol, without any socket: bytes in, room calls out."""

    def __init__(self, room: EventRoom, member, max_line: int):
        self.room, self.member = room, member
        self.buffer = LineSplitter(max_line=None, max_bytes=max_line)  # the chat's splitter
        self.max_line = max_line
        self.name: str | None = None
        self.tries = 0

    def start(self) -> None:
        self.member.write(f"{WELCOME}\n".encode())

    def feed(self, data: bytes) -> bool:
        """Handle what arrived (``b""``: the caller hung up); False once the line must end."""
        try:
            lines = self.buffer.feed(data)
        except LineTooLong:
            self.member.write(f"! line too long (over {self.max_line} bytes): goodbye\n".encode())
            return False
        for raw in lines:
            if self.name is not None:
                text = clean_text(raw)
                if text.strip():  # blank lines are not messages
                    self.room.broadcast(self.name, text)
                continue
            candidate = clean_text(raw).strip()
            problem = _check_name(candidate)
            if problem is None and candidate in self.room.members:
                problem = f"the name {candidate!r} is taken: try another"
            if problem:
                self.tries += 1
                if self.tries >= NAME_TRIES:
                    self.member.write(f"! {problem}; too many tries: goodbye\n".encode())
                    return False
                self.member.write(f"! {problem}\n".encode())
                continue
            self.name = candidate
            self.room.join(candidate, self.member)
            self.member.write(f"* welcome, {candidate}!\n".encode())
        return bool(data)

    def end(self) -> None:
        if self.name is not None:
            self.room.leave(self.name)


# -- on the selectors core ----------------------------------------------------------------


class _LoopMember:
    def __init__(self, conn: Connection):
        self.conn = conn

    def write(self, data: bytes) -> None:
        self.conn.write(data)

    def pending(self) -> int:
        return self.conn.outbox_size

    def drop(self) -> None:
        self.conn.abort()


class _ChatProtocol(Protocol):
    def __init__(self, room: EventRoom, max_line: int):
        self.room, self.max_line = room, max_line

    def connection_made(self, conn: Connection) -> None:
        self.conn = conn
        self.session = _Session(self.room, _LoopMember(conn), self.max_line)
        self.session.start()

    def data_received(self, data: bytes) -> None:
        if not self.session.feed(data):
            self.conn.close()

    def eof_received(self) -> None:
        self.session.feed(b"")
        self.conn.close()

    def connection_lost(self) -> None:
        self.session.end()


def start_loop_chat_server(
    name: str = "loop chat", *, max_line: int = MAX_LINE, max_queue: int = MAX_QUEUE, **options
) -> LoopServer:
    """The chat room served by the selectors core (options: see ``start_loop_server``).

    The room is ``server.room``.  Next: ``server.nc_command()``, ``ChatBot(server, ...)``.
    """
    room = EventRoom(max_queue)
    server = start_loop_server(lambda: _ChatProtocol(room, max_line), name=name, **options)
    server.room = room
    return server


# -- on asyncio ---------------------------------------------------------------------------


class _StreamMember:
    def __init__(self, writer: asyncio.StreamWriter):
        self.writer = writer

    def write(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    def pending(self) -> int:
        return self.writer.transport.get_write_buffer_size()

    def drop(self) -> None:
        self.writer.transport.abort()


def start_async_chat_server(
    name: str = "asyncio chat", *, max_line: int = MAX_LINE, max_queue: int = MAX_QUEUE, **options
) -> AsyncServer:
    """The chat room served by ``asyncio`` streams on a background loop.

    The room is ``server.room``.  Next: ``server.nc_command()``, ``ChatBot(server, ...)``.
    """
    room = EventRoom(max_queue)

    async def chat(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(room, _StreamMember(writer), max_line)
        session.start()
        try:
            while True:
                data = await reader.read(65536)
                if not session.feed(data):
                    return
                await writer.drain()  # this member's own lines wait until it reads
        except OSError:
            return  # it vanished (reset): the finally below says goodbye
        finally:
            session.end()

    server = start_async_server(chat, name, **options)
    server.room = room
    return server
