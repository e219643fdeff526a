"""Checks for lesson 06's exercise ``ChatRoom``, a class with three methods:

- ``join(name, conn)``: add the member, and send ``* NAME joined\\n`` to every other member;
- ``leave(name)``: remove the member, and send ``* NAME left\\n`` to the rest (it does
  not close the member's socket);
- ``broadcast(sender, text)``: send ``SENDER: TEXT\\n`` to every member except the sender.

All text goes out as UTF-8 with ``sendall``.  A member whose socket fails while being sent
to is removed and announced as left; no exception escapes to the caller.  Any of the
three may be called from many threads at once, and two threads never send to the same
member at the same time (their lines would mix).

The check's side lives in neighbouring modules: the harness (real loopback sockets for
the members, an end marker to know nothing more arrived, every call bounded) in
:mod:`._chat_harness`, judging what a member received in :mod:`._chat_diagnosis`, timings
and hints in :mod:`._chat_terms`.
"""

from __future__ import annotations

import contextlib
from collections import Counter

from ._chat_diagnosis import (
    _diagnose,
    _expect,
    _lines,
    _missing_newlines,
    _no_socket_error,
    _show,
    _show_mixed,
)
from ._chat_harness import (
    _bob_vanished,
    _Gate,
    _GateSocket,
    _Harness,
    _NeverReadsSocket,
    _Run,
    _SliceSocket,
    _stress,
)
from ._chat_terms import (
    FAIL_HINT,
    GATE_WAIT,
    LOCK_HINT,
    NEVER_READS_HINT,
    NEWLINE_HINT,
    READ,
    SEND_LOCK_HINT,
)
from .model import CheckFailed, Exercise
from .registry import register
from .tools import ShortSendSocket

__all__ = ["chat_room_exercise"]

chat_room_exercise = Exercise(
    "ChatRoom",
    lesson="06-chat-room",
    summary=(
        "A class with join(name, conn), leave(name) and broadcast(sender, text) that sends "
        "'* NAME joined', 'SENDER: TEXT' and '* NAME left' lines to the other members."
    ),
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


register(chat_room_exercise)
