"""Checks for lesson 06's exercise ``ChatRoom``, a class with three methods:

- ``join(name, conn)``: add the member, and send ``* NAME joined\\n`` to every other member;
- ``leave(name)``: remove the member, and send ``* NAME left\\n`` to the rest (it does
  not close the member's socket);
- ``broadcast(sender, text)``: send ``SENDER: TEXT\\n`` to every member except the sender.

All text goes out as UTF-8 with ``sendall``.  A member whose socket fails while being sent
to is removed and announced as left; no exception escapes to the caller.  Any of the
three may be called from many threads at once, and two threads never send to the same
member at the same time (their lines would mix).

Each check gives the room real sockets on 127.0.0.1 (the server's side of a connection)
and reads what arrives on the other side.  To know that nothing *more* arrived, the check
writes an end marker on the server's side itself once the room is done, and reads up to
it: whatever came before the marker is exactly what the room sent.  Every call into the
learner's code is bounded.
"""

from __future__ import annotations

import contextlib
import errno
import select
import socket
import threading
from collections import Counter
from collections.abc import Iterator, Sequence

from .model import CheckFailed, Exercise
from .registry import register
from .tools import (
    CALL_TIMEOUT,
    READ_TIMEOUT,
    CheckSocket,
    LearnerCall,
    ShortSendSocket,
    adopt,
    reset,
)

__all__ = ["chat_room_exercise"]

#: Seconds one call of join/leave/broadcast may take.
CALL = CALL_TIMEOUT
#: Seconds to read what a member received.
READ = READ_TIMEOUT
#: How long a send to a member who never reads waits before it gives up, as the
#: course's chat server makes it (SO_SNDTIMEO): then it raises BlockingIOError.
SEND_DEADLINE = 0.2
#: How long the thread-safety check holds a broadcast in its first send (seconds).
GATE_WAIT = 0.3
#: How long the mixed-lines check holds a half-sent line for another thread (seconds).
MIX_WAIT = 0.2
#: Bytes one send() hands the kernel in the mixed-lines check.
PIECE = 8

MARKER = b"\x00(end of check)\n"

chat_room_exercise = Exercise(
    "ChatRoom",
    lesson="06-chat-room",
    summary=(
        "A class with join(name, conn), leave(name) and broadcast(sender, text) that sends "
        "'* NAME joined', 'SENDER: TEXT' and '* NAME left' lines to the other members."
    ),
)

SENDALL_HINT = (
    "send() may hand only part of the data to the kernel and returns how much it took; "
    "sendall() keeps sending until every byte is gone"
)
NEWLINE_HINT = (
    "end every line with '\\n': the newline is how a reader (and nc) knows where a line ends"
)
FAIL_HINT = (
    "put each member's sendall() in try/except OSError; when it fails, remove that member "
    "and tell the others '* NAME left' — one vanished member must not stop the rest"
)
SEND_LOCK_HINT = (
    "give every member a lock of its own and hold it around that member's sendall(): "
    "when the kernel takes a line in pieces, two threads sending to the same member at "
    "once interleave their pieces, and the member reads a mix of both lines"
)
LOCK_HINT = (
    "guard the members with a threading.Lock, and send to a copy of them "
    "(list(self.members.items()) taken under the lock), so another thread's join or leave "
    "cannot change the dict while you loop over it"
)


def _show(data: bytes, limit: int = 120) -> str:
    if len(data) <= limit:
        return repr(bytes(data))
    return f"{bytes(data[:limit])!r}… ({len(data)} bytes)"


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


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _expect(
    h: _Harness,
    name: str,
    expected: Sequence[str],
    *,
    any_order: int = 0,
    sender: str = "",
    missing_hint: str = "",
    got: bytes | None = None,
) -> None:
    """``name`` must have received exactly ``expected`` (the last ``any_order`` lines in
    any order); ``got`` if the check has already read it."""
    got = h.received(name) if got is None else got
    want = "".join(expected).encode("utf-8")
    if got == want:
        return
    if any_order:
        head, tail = list(expected[:-any_order]), list(expected[-any_order:])
        got_lines = _lines(got)
        if b"".join(got_lines[: len(head)]) == "".join(head).encode() and Counter(
            got_lines[len(head) :]
        ) == Counter(t.encode() for t in tail):
            return
    what, hint = _diagnose(name, got, want, sender, missing_hint)
    raise CheckFailed(what, sent=h.doing(), got=_show(got), expected=_show(want), hint=hint)


def _missing_newlines(got: bytes, want: bytes) -> bool:
    """Whether ``got`` is what was expected (in any order) except for missing newlines."""
    return (
        bool(got)
        and got.count(b"\n") < want.count(b"\n")
        and Counter(got.replace(b"\n", b"")) == Counter(want.replace(b"\n", b""))
    )


def _diagnose(
    name: str, got: bytes, want: bytes, sender: str, missing_hint: str = ""
) -> tuple[str, str]:
    if not got and want:
        return (
            f"{name} received nothing",
            "send each line to every member with conn.sendall(line.encode())",
        )
    if _missing_newlines(got, want):
        return f"the lines {name} received do not end with a newline", NEWLINE_HINT
    if (
        sender
        and f"\n{sender}: ".encode() in b"\n" + got
        and f"\n{sender}: ".encode() not in b"\n" + want
    ):
        return (
            f"the sender {sender} received its own message back",
            "broadcast() sends to every member except the sender: skip the member whose name is sender",
        )
    if f"* {name} joined".encode() in got:
        return (
            f"{name} was told about its own arrival",
            "join() tells everyone *else*: send before adding the newcomer, or skip it in the loop",
        )
    got_lines, want_lines = _lines(got), _lines(want)
    partial = [g for g in got_lines if not g.endswith(b"\n")]
    partial += [
        g
        for g in got_lines
        if g not in want_lines and any(w.startswith(g[:-1]) for w in want_lines)
    ]
    if partial:
        return f"only part of what was sent to {name} arrived", SENDALL_HINT
    missing = list((Counter(want_lines) - Counter(got_lines)).elements())
    extra = list((Counter(got_lines) - Counter(want_lines)).elements())
    if missing and not extra:
        return f"{name} never received {missing[0]!r}", missing_hint or (
            "send the line to every member it is meant for, each with its own sendall()"
        )
    if extra and not missing:
        return f"{name} received {extra[0]!r}, which was not meant for it", (
            "check who each line goes to: joined and left go to everyone else, a message to "
            "everyone but its sender, and nobody hears anything after they left"
        )
    return (
        f"{name} did not receive what was expected",
        "compare the lines: '* NAME joined', 'SENDER: TEXT' and '* NAME left', each ending in '\\n'",
    )


@chat_room_exercise.check(
    "join() sends '* NAME joined' to everyone already in the room, not to the newcomer"
)
def _join_sends_name_joined_everyone_already(cls):
    with contextlib.ExitStack() as stack:
        h = _Harness(cls, stack)
        h.join("ada", "bob", "cy")
        _expect(h, "ada", ["* bob joined\n", "* cy joined\n"])
        _expect(h, "bob", ["* cy joined\n"])
        _expect(h, "cy", [])


@chat_room_exercise.check(
    "broadcast() sends 'SENDER: TEXT' in UTF-8 to every member except the sender"
)
def _broadcast_sends_sender_text_utf_8(cls):
    with contextlib.ExitStack() as stack:
        h = _Harness(cls, stack)
        h.join("ada", "bob", "cy")
        h.call("broadcast", "bob", "héllo, wörld")
        h.call("broadcast", "ada", "hi bob")
        _expect(h, "bob", ["* cy joined\n", "ada: hi bob\n"], sender="bob")
        _expect(h, "ada", ["* bob joined\n", "* cy joined\n", "bob: héllo, wörld\n"], sender="ada")
        _expect(h, "cy", ["bob: héllo, wörld\n", "ada: hi bob\n"])


@chat_room_exercise.check(
    "leave() sends '* NAME left' to the rest and leaves the member's socket open"
)
def _leave_sends_name_left_rest_leaves(cls):
    with contextlib.ExitStack() as stack:
        h = _Harness(cls, stack)
        h.join("ada", "bob", "cy")
        h.call("leave", "bob")
        h.call("broadcast", "ada", "bye bob")
        _expect(h, "bob", ["* cy joined\n"])
        left_hint = "leave() tells the rest: send '* NAME left' to every member still in the room"
        _expect(
            h,
            "ada",
            ["* bob joined\n", "* cy joined\n", "* bob left\n"],
            sender="ada",
            missing_hint=left_hint,
        )
        _expect(h, "cy", ["* bob left\n", "ada: bye bob\n"], missing_hint=left_hint)


@contextlib.contextmanager
def _bob_vanished(cls) -> Iterator[_Harness]:
    """Ada, Bob and Cy join; then Bob's line is reset."""
    with contextlib.ExitStack() as stack:
        h = _Harness(cls, stack)
        h.join("ada", "bob", "cy")
        h.vanish("bob")
        h.actions.append("bob's line is reset")
        yield h


@contextlib.contextmanager
def _no_socket_error(h: _Harness, method: str, hint: str) -> Iterator[None]:
    """Fail the check if ``method`` lets a vanished member's socket error escape."""
    try:
        yield
    except OSError:
        raise CheckFailed(
            f"{method}() let a socket error escape when a member had vanished",
            sent=h.doing(),
            got=f"a socket error (OSError) raised out of {method}()",
            expected="no exception: the vanished member is removed and announced as left",
            hint=hint,
        ) from None


@chat_room_exercise.check(
    "a member whose line fails is removed and announced as left; the others still get every message"
)
def _drops_a_member_whose_line_fails(cls):
    with _bob_vanished(cls) as h:
        with _no_socket_error(h, "broadcast", FAIL_HINT):
            h.call("broadcast", "ada", "anyone there?")
            h.call("broadcast", "cy", "still here")
        _expect(
            h,
            "cy",
            ["ada: anyone there?\n", "* bob left\n"],
            any_order=2,
            sender="cy",
            missing_hint=FAIL_HINT,
        )
        _expect(
            h,
            "ada",
            ["* bob joined\n", "* cy joined\n", "* bob left\n", "cy: still here\n"],
            sender="ada",
            missing_hint=FAIL_HINT,
        )


@chat_room_exercise.check(
    "join() does not fail when a member has vanished; the vanished member is announced as left"
)
def _join_survives_a_vanished_member(cls):
    with _bob_vanished(cls) as h:
        join_hint = (
            "join() sends '* NAME joined' to the others like broadcast() does: "
            "the same try/except OSError around each member's sendall()"
        )
        with _no_socket_error(h, "join", join_hint):
            h.join("dee")
        h.call("broadcast", "ada", "welcome dee")
        _expect(
            h,
            "cy",
            ["* dee joined\n", "* bob left\n", "ada: welcome dee\n"],
            any_order=3,
            missing_hint=FAIL_HINT,
        )
        _expect(
            h,
            "ada",
            ["* bob joined\n", "* cy joined\n", "* dee joined\n", "* bob left\n"],
            any_order=2,
            sender="ada",
            missing_hint=FAIL_HINT,
        )


NEVER_READS_HINT = (
    "catch OSError, not only BrokenPipeError and ConnectionResetError: a member who never "
    "reads fills their buffers, and the send to them gives up with BlockingIOError (or a "
    "timeout) — both are OSErrors; remove that member like one who vanished"
)


@chat_room_exercise.check(
    "a member who never reads is removed and announced as left; the others still get every message"
)
def _drops_a_member_who_never_reads(cls):
    with contextlib.ExitStack() as stack:
        h = _Harness(cls, stack)
        h.join("ada", "bob", "cy")
        h.join("zoe", sock_class=_NeverReadsSocket)
        h.actions[-1] += " (zoe never reads: every send to her gives up with BlockingIOError)"
        with _no_socket_error(h, "broadcast", NEVER_READS_HINT):
            h.call("broadcast", "ada", "is everyone reading?")
        _expect(
            h,
            "bob",
            ["* cy joined\n", "* zoe joined\n", "ada: is everyone reading?\n", "* zoe left\n"],
            any_order=2,
            missing_hint=NEVER_READS_HINT,
        )
        with _no_socket_error(h, "broadcast", NEVER_READS_HINT):
            h.call("broadcast", "cy", "I am")
        _expect(h, "bob", ["cy: I am\n"], missing_hint=NEVER_READS_HINT)
        _expect(
            h,
            "cy",
            ["* zoe joined\n", "ada: is everyone reading?\n", "* zoe left\n"],
            any_order=2,
            sender="cy",
            missing_hint=NEVER_READS_HINT,
        )


@chat_room_exercise.check("leave() of a name that is not in the room does nothing")
def _leave_of_a_stranger_does_nothing(cls):
    with contextlib.ExitStack() as stack:
        h = _Harness(cls, stack)
        h.join("ada", "bob")
        try:
            h.call("leave", "nobody")
            h.call("leave", "bob")
            h.call("leave", "bob", shown="leave('bob') again")
        except KeyError as exc:
            raise CheckFailed(
                "leave() raised KeyError for a name that is not in the room",
                sent=h.doing(),
                got=f"KeyError: {exc}",
                expected="no exception, and no line sent",
                hint="a member may already be gone (dropped when a send failed, or left twice): "
                "remove with self.members.pop(name, None) and do nothing more if it was not there",
            ) from None
        h.call("broadcast", "ada", "anyone?")
        _expect(
            h,
            "ada",
            ["* bob joined\n", "* bob left\n"],
            sender="ada",
            missing_hint="leave() tells the rest: send '* NAME left' to every member still in the room",
        )
        got = h.received("bob")
        if got != b"":
            raise CheckFailed(
                "bob received something after he left",
                sent=h.doing(),
                got=_show(got),
                expected="nothing",
                hint="a member who left hears nothing more: remove them before sending",
            )


@chat_room_exercise.check("leave() of a member the room already dropped announces nothing again")
def _leave_after_a_drop_is_quiet(cls):
    with _bob_vanished(cls) as h:
        with _no_socket_error(h, "broadcast", FAIL_HINT):
            h.call("broadcast", "ada", "anyone there?")
        # The server calls leave() when bob's connection ends: bob is already gone.
        h.call("leave", "bob", shown="leave('bob') (the server, as bob's line ended)")
        got = h.received("cy")
        if got.count(b"* bob left\n") > 1:
            raise CheckFailed(
                "cy was told twice that bob left",
                sent=h.doing(),
                got=_show(got),
                expected="'* bob left' once",
                hint="when leave(name) finds no such member (already dropped), it does nothing: "
                "announce '* NAME left' only if the member was still in the room",
            )
        _expect(
            h,
            "cy",
            ["ada: anyone there?\n", "* bob left\n"],
            any_order=2,
            missing_hint=FAIL_HINT,
            got=got,
        )


@chat_room_exercise.check("a member who stops reading does not hold up the rest of the room")
def _no_lock_held_while_sending(cls):
    with contextlib.ExitStack() as stack:
        gate = _Gate()
        h = _Harness(cls, stack, gate=gate)
        h.join("ada", "bob")
        h.join("sid", sock_class=_GateSocket)
        h.actions[-1] += " (sid stops reading: a send to him waits)"
        talk = _Run(h.room.broadcast, "ada", "hello")
        gate.thread = talk.thread
        h.actions.append("broadcast('ada', 'hello') in another thread, stuck sending to sid")
        talk.start()
        stack.callback(gate.open.set)  # whatever happens, the stuck send ends
        if not gate.hit.wait(READ):
            gate.open.set()
            talk.finish("broadcast('ada', 'hello')")
            return  # it never sent to sid: nothing can hold anyone up
        shown = "broadcast('sid', 'I still type, but never read')"
        h.actions.append(shown)
        try:
            _Run(h.room.broadcast, "sid", "I still type, but never read").start().finish(
                shown, READ
            )
        except CheckFailed:
            raise CheckFailed(
                "broadcast() waited while another thread was sending to a member who does not read",
                sent=h.doing(),
                got=f"broadcast('sid', …) had not returned after {READ:g} s",
                expected="it returns at once: it sends nothing to sid",
                hint="never wait for the network while holding the room's lock (lesson 05): take "
                "a copy of the members under the lock, release it, then send",
            ) from None
        finally:
            gate.open.set()
        talk.finish("broadcast('ada', 'hello')")
        _expect(
            h,
            "bob",
            ["* sid joined\n", "ada: hello\n", "sid: I still type, but never read\n"],
            any_order=2,
        )


@chat_room_exercise.check(
    "sends whole lines with sendall(), even when the kernel takes a few bytes per send()"
)
def _sends_whole_lines_sendall_even_kernel(cls):
    with contextlib.ExitStack() as stack:
        h = _Harness(cls, stack, sock_class=ShortSendSocket)
        h.join("ada", "bob")
        text = "a long message that the kernel takes three bytes at a time: " + "la " * 30
        h.call("broadcast", "ada", text)
        h.call("leave", "ada")
        _expect(h, "bob", [f"ada: {text}\n", "* ada left\n"])
        _expect(h, "ada", ["* bob joined\n"], sender="ada")


@chat_room_exercise.check(
    "join(), leave() and broadcast() are safe to call from many threads at once"
)
def _join_leave_broadcast_are_safe_call(cls):
    with contextlib.ExitStack() as stack:
        gate = _Gate()
        h = _Harness(cls, stack, sock_class=_GateSocket, gate=gate)
        h.join("ada", "bob", "cy")
        # Hold ada's broadcast inside its first send while dee joins from another thread.
        h.actions.append("broadcast('ada', 'first') while another thread calls join('dee', conn)")
        talk = _Run(h.room.broadcast, "ada", "first")
        gate.thread = talk.thread
        talk.start()
        gate.hit.wait(READ)
        dee = h.member("dee")
        joining = _Run(h.room.join, "dee", dee).start()
        joining.thread.join(GATE_WAIT)  # a room that holds its lock while sending makes join wait
        gate.open.set()
        try:
            talk.finish("broadcast('ada', 'first')")
        except RuntimeError as exc:
            raise CheckFailed(
                "broadcast() failed while another thread called join()",
                sent=h.doing(),
                got=f"RuntimeError: {exc}",
                expected="every member present before the broadcast receives 'ada: first'",
                hint=LOCK_HINT,
            ) from None
        joining.finish("join('dee', conn)")
        for name in ("bob", "cy"):
            data = h.received(name)
            got = _lines(data)
            if b"ada: first" in data and not data.endswith(b"\n"):
                raise CheckFailed(
                    f"the lines {name} received do not end with a newline",
                    sent=h.doing(),
                    got=_show(data),
                    expected="a line b'ada: first\\n' among the others",
                    hint=NEWLINE_HINT,
                )
            if b"ada: first\n" not in got:
                raise CheckFailed(
                    f"{name} never received ada's message sent while another thread joined",
                    sent=h.doing(),
                    got=_show(b"".join(got)),
                    expected="a line b'ada: first\\n' among the others",
                    hint=LOCK_HINT,
                )
        _stress(cls, stack)


@chat_room_exercise.check("two threads sending to the same member never mix their lines")
def _two_threads_sending_same_member_never(cls):
    with contextlib.ExitStack() as stack:
        h = _Harness(cls, stack)
        h.join("ada")
        h.sock_class = _SliceSocket  # only bob's line takes a few bytes per send()
        h.join("bob")
        h.sock_class = None
        h.join("cy")
        ada_says = "ada's line, long enough to go in many pieces: " + "la " * 20
        cy_says = "cy's line, just as long, sent at the same moment: " + "lo " * 20
        h.actions.append(
            f"broadcast('ada', {ada_says!r}) and broadcast('cy', {cy_says!r}) from two threads at once"
        )
        h.overlap.armed = True
        first = _Run(h.room.broadcast, "ada", ada_says).start()
        h.overlap.held.wait(READ)  # ada's line to bob is half sent (or already whole)
        second = _Run(h.room.broadcast, "cy", cy_says).start()
        first.finish("broadcast('ada', …)")
        second.finish("broadcast('cy', …)")
        h.overlap.armed = False
        want = ["* cy joined\n", f"ada: {ada_says}\n", f"cy: {cy_says}\n"]
        got = h.received("bob")
        wanted = "".join(want).encode()
        either_order = "".join([want[0], want[2], want[1]]).encode()
        if got in (wanted, either_order):
            return
        if not _missing_newlines(got, wanted) and Counter(got) == Counter(wanted):
            raise CheckFailed(
                "the lines bob received from two threads at once were mixed together",
                sent=h.doing(),
                got=_show_mixed(got, h.overlap),
                expected="ada's line and cy's line, each whole, in either order",
                hint=SEND_LOCK_HINT,
            )
        what, hint = _diagnose("bob", got, wanted, "bob")
        raise CheckFailed(
            what, sent=h.doing(), got=_show_mixed(got, h.overlap), expected=_show(wanted), hint=hint
        )


def _show_mixed(got: bytes, overlap: _Overlap) -> str:
    """``got`` up to where another thread's piece landed: only that much is the same on
    every run (after it, the two threads' pieces alternate as the scheduler likes)."""
    if overlap.mixed_at is None or overlap.mixed_at >= len(got):
        return _show(got)
    return f"{_show(got[: overlap.mixed_at], limit=200)}… (then the rest of both lines, mixed)"


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


register(chat_room_exercise)
