"""The course's chat room, :class:`Room`: who is in, and sending them lines without ever
waiting for a slow member.

:func:`~tcplessons.chat.start_chat_server` runs it by default (lesson 06's exercise,
``ChatRoom``, is a simpler room the same server runs instead).  What callers type is made
safe in :mod:`tcplessons.chat_text` before it reaches a room.
"""

from __future__ import annotations

import socket
import threading
from collections import deque
from collections.abc import Sequence

from .waiting import DONTWAIT, wait_until_ready

__all__ = ["Room"]

#: Bytes that may wait for one member who is not reading before it is dropped.
MAX_QUEUE = 256 * 1024


class _Member:
    """One member: its socket, and what is still waiting to be sent to it."""

    def __init__(self, name: str, sock: socket.socket):
        self.name, self.sock = name, sock
        self.lock = threading.Lock()  # guards everything below
        self.outbox: deque[bytes] = deque()  # lines the kernel could not take yet
        self.queued = 0  # bytes in outbox
        self.writer: threading.Thread | None = None  # runs only while the outbox has lines
        self.gone = False


class Room:
    """The course's chat room: ``join``, ``leave`` and ``broadcast``, safe from any thread.

    Sending never waits for a slow member.  Each line is offered to every member's socket
    without blocking; the kernel almost always takes all of it.  What a member's full
    buffer cannot take waits in that member's own outbox, flushed by a writer thread that
    exists only while the outbox has lines.  A member whose outbox passes ``max_queue``
    bytes (it is not reading), or whose socket fails (it vanished), is dropped: removed,
    its line shut down, and announced as left.  Nothing raises to the caller.

    Lesson 06 asks you to write a simpler room, ``ChatRoom``, that sends with sendall().
    """

    #: Seconds leave() waits for a member's writer thread to finish.
    WRITER_JOIN = 5.0

    def __init__(self, max_queue: int = MAX_QUEUE):
        self.max_queue = max_queue
        self._lock = threading.Lock()  # guards _members and _dropped; never held while sending
        self._members: dict[str, _Member] = {}
        self._dropped: dict[str, _Member] = {}  # dropped, but leave() not called yet
        self._writers: set = set()  # writer threads still running, for close()

    def names(self) -> list[str]:
        """Who is in the room, sorted."""
        with self._lock:
            return sorted(self._members)

    def join(self, name: str, conn: socket.socket) -> None:
        """Add a member and send ``* NAME joined`` to everyone else."""
        member = _Member(name, conn)
        with self._lock:
            if name in self._members:
                raise ValueError(f"{name!r} is already in the room")
            others = list(self._members.values())
            self._members[name] = member
        self._send(others, f"* {name} joined\n")

    def leave(self, name: str) -> None:
        """Remove a member (its socket stays open) and send ``* NAME left`` to the rest.

        Leaving twice does nothing the second time.  Returns once the member's writer
        thread, if it had one, has finished.
        """
        member = self._remove(name, None)
        with self._lock:
            member = member or self._dropped.pop(name, None)
        if member is not None:
            writer = member.writer
            if writer is not None and writer is not threading.current_thread():
                writer.join(self.WRITER_JOIN)

    def broadcast(self, sender: str, text: str) -> None:
        """Send ``SENDER: TEXT`` to every member except the sender."""
        with self._lock:
            others = [m for n, m in self._members.items() if n != sender]
        self._send(others, f"{sender}: {text}\n")

    # Copy the members under the room's lock, send outside it: joins and leaves never
    # wait for a send, and a member whose buffer is full never delays the others.
    def _send(self, members: Sequence[_Member], line: str) -> None:
        data = line.encode("utf-8")
        failed: list[_Member] = []
        for member in members:
            with member.lock:
                if member.gone:
                    continue
                if member.outbox:  # keep the order: after what is already waiting
                    if member.queued + len(data) > self.max_queue:
                        member.gone = True  # it is not reading: give up on it
                        failed.append(member)
                    else:
                        member.outbox.append(data)
                        member.queued += len(data)
                    continue
                try:
                    sent = _offer(member.sock, data)
                except OSError:  # reset or closed: it vanished
                    member.gone = True
                    failed.append(member)
                    continue
                if sent < len(data):
                    rest = data[sent:]
                    member.outbox.append(rest)
                    member.queued += len(rest)
                    if member.writer is None:
                        member.writer = threading.Thread(
                            target=self._write,
                            args=(member,),
                            name=f"tcplessons chat writer {member.name}",
                            daemon=True,
                        )
                        with self._lock:
                            self._writers.add(member.writer)
                        member.writer.start()
        for member in failed:
            self._drop(member)

    def _write(self, member: _Member) -> None:
        """Flush one member's outbox, then end (a writer thread's whole life)."""
        try:
            self._flush(member)
        finally:
            with self._lock:
                self._writers.discard(threading.current_thread())

    def close(self) -> None:
        """Wait (bounded) for every writer thread to finish; the server calls this when it
        stops, after every line is shut down, so no thread outlives ``stop()``."""
        with self._lock:
            writers = list(self._writers)
        for writer in writers:
            if writer is not threading.current_thread():
                writer.join(self.WRITER_JOIN)

    def _flush(self, member: _Member) -> None:
        while True:  # ends when the outbox is empty or the member is gone
            with member.lock:
                if member.gone or not member.outbox:
                    member.outbox.clear()
                    member.queued = 0
                    if not member.gone:
                        member.writer = None  # the next line that has to wait starts a new writer
                    return
                data = member.outbox[0]
            try:
                # Blocks until the member reads (or the server's send timeout passes),
                # without holding the lock, so broadcasts keep adding to the outbox.
                member.sock.sendall(data)
            except OSError:
                with member.lock:
                    member.gone = True
                self._drop(member)
                return
            with member.lock:
                if member.outbox and member.outbox[0] is data:
                    member.outbox.popleft()
                    member.queued -= len(data)

    def _drop(self, member: _Member) -> None:
        _hang_up(member.sock)  # its reader and writer threads wake up
        if self._remove(member.name, member) is not None:
            with self._lock:
                self._dropped[member.name] = member

    def _remove(self, name: str, member: _Member | None) -> _Member | None:
        with self._lock:
            current = self._members.get(name)
            if current is None or (member is not None and current is not member):
                return None
            del self._members[name]
            rest = list(self._members.values())
        with current.lock:
            current.gone = True
        self._send(rest, f"* {name} left\n")
        return current

    def __repr__(self) -> str:
        return "<Room>"


def _hang_up(sock: socket.socket) -> None:
    """End a member's line so that its reader and writer threads wake up, on any system.

    The server's sockets have ``hang_up()`` (a wake-up socket: see TrackedSocket);
    ``shutdown()`` alone would wake them on Linux only.
    """
    hang_up = getattr(sock, "hang_up", None)
    try:
        hang_up() if callable(hang_up) else sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _offer(sock: socket.socket, data: bytes) -> int:
    """Send what the kernel takes right now, without blocking; return how much.

    Asks first whether the socket has room at all (a zero-timeout wait), so this works
    where MSG_DONTWAIT does not exist: Windows takes a whole send whenever it has room.
    """
    try:
        if not wait_until_ready([], [sock], 0):
            return 0
        return sock.send(data, DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return 0
