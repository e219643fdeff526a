"""The check's side of a ``ChatRoom`` check (lesson 06): the room under test and its members.

:class:`_Harness` builds the learner's room and gives it members on real loopback sockets,
calls its methods in bounded threads (:class:`_Run`) and reads back what each member
received.

Each check gives the room real sockets on 127.0.0.1 (the server's side of a connection)
and reads what arrives on the other side.  To know that nothing *more* arrived, the check
writes an end marker on the server's side itself once the room is done, and reads up to
it: whatever came before the marker is exactly what the room sent.  Every call into the
learner's code is bounded.

The socket doubles here make timing mistakes fail every time: a member who never reads, a
send held at a gate, a kernel that takes a few bytes per ``send()``.  :func:`_bob_vanished`
and :func:`_stress` are the two scenarios checks play on it.

The timings and hints are in :mod:`._chat_terms`; judging what a member received is in
:mod:`._chat_diagnosis`; the checks are in :mod:`.chat`.
"""

from __future__ import annotations

import contextlib
import errno
import select
import socket
import threading
from collections.abc import Iterator

from ._chat_terms import CALL, LOCK_HINT, MIX_WAIT, PIECE, READ, SEND_DEADLINE
from .model import CheckFailed
from .tools import CheckSocket, LearnerCall, adopt, reset

MARKER = b"\x00(end of check)\n"


class _NeverReadsSocket(CheckSocket):
    """The server's side of a member who never reads: their buffers are full, so every
    send waits SEND_DEADLINE seconds and gives up with BlockingIOError, as it does on the
    course's chat server (whose sockets have a send deadline)."""

    def _full(self) -> None:
        threading.Event().wait(SEND_DEADLINE)
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    def send(self, data, flags: int = 0) -> int:
        self._full()
        return 0

    def sendall(self, data, flags: int = 0) -> None:
        self._full()


class _GateSocket(CheckSocket):
    """A real socket whose first send from one chosen thread waits at a gate.

    The thread-safety check uses it to hold a broadcast in the middle of its loop while
    another thread joins: a room that loops over its dict without a lock then fails every
    time, not once in a thousand runs.
    """

    gate: _Gate | None = None

    def _pause(self) -> None:
        gate = self.gate
        if gate is not None and gate.thread is threading.current_thread() and not gate.hit.is_set():
            gate.hit.set()
            gate.open.wait(2 * CALL)  # longer than any wait of the check: it opens the gate

    def send(self, data, flags: int = 0) -> int:
        self._pause()
        return super().send(data, flags)

    def sendall(self, data, flags: int = 0) -> None:
        self._pause()
        super().sendall(data, flags)


class _Gate:
    def __init__(self):
        self.thread: threading.Thread | None = None
        self.hit = threading.Event()
        self.open = threading.Event()


class _Overlap:
    """What the mixed-lines check's member socket has seen (shared by its send calls)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.midline: threading.Thread | None = None  # whose line is half sent
        self.held = threading.Event()  # a half-sent line is waiting for another thread
        self.intruded = threading.Event()  # another thread sent in the middle of it
        self.waited = False
        self.armed = False  # only the concurrent part of the check holds a line
        self.written = 0  # bytes sent on this line so far
        self.mixed_at: int | None = None  # where the first intruding piece ended


class _SliceSocket(CheckSocket):
    """A real socket whose send() hands the kernel only ``PIECE`` bytes, as a busy kernel may.

    The first time a line is left half sent, the sending thread waits (at most
    ``MIX_WAIT`` s) for another thread to send to this member.  A room without a
    per-member send lock lets the other thread in, and its bytes land in the middle of
    the first line every time; a room with one makes the other thread wait its turn.
    """

    overlap: _Overlap | None = None

    def send(self, data, flags: int = 0) -> int:
        probe = self.overlap
        me = threading.current_thread()
        piece = bytes(memoryview(data)[:PIECE])
        with probe.lock:
            intruding = probe.midline is not None and probe.midline is not me
        sent = super().send(piece, flags)
        with probe.lock:
            probe.written += sent
            if intruding and probe.mixed_at is None:
                probe.mixed_at = probe.written
            if not intruding:
                probe.midline = None if piece[:sent].endswith(b"\n") else me
            wait = probe.armed and probe.midline is me and not probe.waited
            if wait:
                probe.waited = True
        if intruding:
            probe.intruded.set()  # only now: our bytes are already in the middle of the line
        elif wait:
            probe.held.set()
            probe.intruded.wait(MIX_WAIT)
        return sent

    def sendall(self, data, flags: int = 0) -> None:
        view = memoryview(data).cast("B")
        while view:  # bounded: every send() writes at least one byte or raises
            view = view[self.send(view, flags) :]


class _Run(LearnerCall):
    """A room method running in a thread of the check's own."""

    def finish(self, call: str, timeout: float = CALL):
        if not self.join(timeout):
            raise CheckFailed(
                f"{call} did not return within {timeout:g} s",
                hint="is a lock held while waiting for another lock, or a send to a member who never reads?",
            )
        return self.result()


class _Harness:
    """The learner's room, and the members the check gave it (real loopback sockets)."""

    def __init__(
        self, cls, stack: contextlib.ExitStack, sock_class=None, gate: _Gate | None = None
    ):
        self.stack = stack
        self.overlap = _Overlap()
        self.sock_class = sock_class
        self.gate = gate
        self.listener = stack.enter_context(socket.create_server(("127.0.0.1", 0)))
        self.clients: dict[str, socket.socket] = {}
        self.sides: dict[str, socket.socket] = {}
        self.actions: list[str] = []
        self.room = _Run(cls).start().finish("ChatRoom()")

    def member(self, name: str, sock_class=None) -> socket.socket:
        client = socket.create_connection(self.listener.getsockname(), timeout=READ)
        self.stack.callback(client.close)
        side, _ = self.listener.accept()
        side.settimeout(CALL)  # so a send into a full buffer cannot hang the check
        side = adopt(
            sock_class or self.sock_class or CheckSocket,
            side,
            **{"limit": 3, "gate": self.gate, "overlap": self.overlap},
        )
        self.stack.callback(side.close)
        self.clients[name], self.sides[name] = client, side
        return side

    def call(self, method: str, *args, shown: str = ""):
        shown = shown or f"{method}({', '.join(repr(a) for a in args)})"
        self.actions.append(shown)
        fn = getattr(self.room, method)
        return _Run(fn, *args).start().finish(shown)

    def join(self, *names: str, sock_class=None) -> None:
        for name in names:
            self.call("join", name, self.member(name, sock_class), shown=f"join({name!r}, conn)")

    def doing(self) -> str:
        return "; ".join(self.actions)

    def received(self, name: str) -> bytes:
        """Everything the room sent to ``name`` so far (nothing more will come)."""
        side, client = self.sides[name], self.clients[name]
        try:
            socket.socket.sendall(side, MARKER)
        except OSError:
            raise CheckFailed(
                "a member's socket was closed by the room",
                sent=self.doing(),
                got=f"the server's side of {name}'s line could not send any more",
                expected="the room sends lines and leaves closing to the server",
                hint="leave(name) only removes the member and tells the others; the server "
                "that handed over the socket closes it when the caller hangs up",
                cause="closes conn",
            ) from None
        data = bytearray()
        client.settimeout(READ)
        while MARKER not in data:  # bounded: each recv() has a timeout
            try:
                chunk = client.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        return bytes(data).split(MARKER, 1)[0]

    def vanish(self, name: str) -> None:
        """``name``'s caller disappears: the connection is reset (RST), not hung up."""
        reset(self.clients.pop(name))
        # Wait until the server's side has seen the reset, so the next send fails.
        select.select([self.sides[name]], [], [], READ)


@contextlib.contextmanager
def _bob_vanished(cls) -> Iterator[_Harness]:
    """Ada, Bob and Cy join; then Bob's line is reset."""
    with contextlib.ExitStack() as stack:
        h = _Harness(cls, stack)
        h.join("ada", "bob", "cy")
        h.vanish("bob")
        h.actions.append("bob's line is reset")
        yield h


def _stress(cls, stack: contextlib.ExitStack, threads: int = 6, rounds: int = 10) -> None:
    """Many members join, talk and leave at once; afterwards none of them is left behind."""
    h = _Harness(cls, stack)
    names = [f"t{i}" for i in range(threads)]
    socks = {name: h.member(name) for name in names}

    def life(name: str) -> None:
        h.room.join(name, socks[name])
        for i in range(rounds):
            h.room.broadcast(name, f"line {i}")
        h.room.leave(name)

    runs = [_Run(life, name).start() for name in names]
    for run in runs:
        try:
            run.finish(f"{threads} threads each calling join, broadcast and leave")
        except RuntimeError as exc:
            raise CheckFailed(
                f"{threads} members joining, talking and leaving at once made the room fail",
                sent=f"{threads} threads, each: join(its name, conn), broadcast() {rounds} times, leave(its name)",
                got=f"RuntimeError: {exc}",
                expected="no exception",
                hint=LOCK_HINT,
            ) from None
    h.join("zed")
    h.call("broadcast", "zed", "is anyone left?")
    for name in names:
        if b"zed: is anyone left?" in h.received(name):
            raise CheckFailed(
                "a member who left while other threads were busy still got later messages",
                sent=f"{threads} threads each calling join, broadcast and leave; then broadcast('zed', …)",
                got="the member who left is still in the room",
                expected="every member who left is gone",
                hint=LOCK_HINT,
            )
