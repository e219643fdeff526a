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
"""

from __future__ import annotations

import re
import socket
import struct
import sys
import threading
from collections import deque
from collections.abc import Sequence

from .framing import LineSplitter, LineTooLong
from .servers import Server, start_server
from .waiting import DONTWAIT, wait_until_ready

__all__ = [
    "ChatBot",
    "ChatClient",
    "Room",
    "clean_text",
    "start_bots",
    "start_chat_server",
]

#: The longest line (in bytes, without its newline) the server accepts.
MAX_LINE = 64 * 1024
#: The longest name, in characters.
MAX_NAME = 32
#: How many names a caller may try before the server hangs up.
NAME_TRIES = 5
#: Seconds a send to one member may block before that member is dropped.
SEND_TIMEOUT = 1.0
#: Bytes that may wait for one member who is not reading before it is dropped.
MAX_QUEUE = 256 * 1024

WELCOME = "* welcome: type your name and press Enter"


# -- lines: the caller's text, made safe (no sockets here) ---------------------------------


# Control characters could ring bells, clear screens or recolour terminals of everyone
# in the room (escape sequences), or hide text (NUL, bidirectional overrides).  They
# never reach another member.  A tab becomes a space.
_UNSAFE = {c: None for c in range(0x20)}
_UNSAFE[0x7F] = None
_UNSAFE.update({c: None for c in range(0x80, 0xA0)})
_UNSAFE.update({c: None for c in (0x200E, 0x200F, 0x2028, 0x2029, 0xFEFF)})
_UNSAFE.update({c: None for c in range(0x202A, 0x202F)})
_UNSAFE.update({c: None for c in range(0x2066, 0x206A)})
_UNSAFE[0x09] = " "
# Whole escape sequences go, not just their ESC: "\x1b[2J" (clear screen) leaves nothing.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


def clean_text(data: bytes | str) -> str:
    """Bytes from a caller, made safe to show to others.

    Invalid UTF-8 becomes U+FFFD (the replacement character); control characters are
    removed; tabs become spaces.
    """
    text = data.decode("utf-8", errors="replace") if isinstance(data, (bytes, bytearray)) else data
    return _ESCAPES.sub("", text).translate(_UNSAFE)


def _check_name(name: str) -> str | None:
    """Why ``name`` cannot be used (None if it can)."""
    if not name:
        return "a name cannot be empty: type your name and press Enter"
    if any(ch.isspace() for ch in name):
        return f"a name cannot contain spaces: try {'_'.join(name.split())!r}"
    if len(name) > MAX_NAME:
        return f"a name has at most {MAX_NAME} characters: try a shorter one"
    return None


# -- the room: who is in, and sending them lines ------------------------------------------


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


# -- the server ---------------------------------------------------------------------------


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


# -- clients: members driven from cells ---------------------------------------------------


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
