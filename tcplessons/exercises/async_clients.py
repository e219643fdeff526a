"""Checks for lesson 07's exercise ``async def call_all(addresses, message, timeout)``.

The contract: connect to every address at once, send ``message`` (bytes), half-close, read
each reply until that server hangs up, and return the replies in the order of
``addresses``.  A server that does not finish within ``timeout`` seconds gets a
``TimeoutError`` instance in its slot (and its connection is closed); one that refuses
gets the ``ConnectionRefusedError`` instance, any other ``OSError`` its instance; the
others are unaffected.  An empty list gives ``[]``.  The whole call takes about the
slowest server's time, not the sum.

The check's servers are threads with real sockets on 127.0.0.1.  A server replies only
once it has the whole message (the client half-closed); to tell "at once" from "one after
another" without judging speed, the servers of the "at once" check wait for each other:
none replies before all of them have the message, so a ``call_all`` that waits for one
reply before talking to the next server keeps the first one waiting (for a bounded time).
The order check lets the servers reply last-first only once all three have the message,
so a one-at-a-time caller (reported by the "at once" check) gets its replies in its own
order whatever its speed; the first check's servers reply in the order of addresses.

The learner's coroutine runs on a loop of the check's own, in a thread of its own (the
notebook's own loop is busy running the notebook).  When it returns, that loop keeps
running for a moment: tasks left running are counted, and the silent server pokes its
connection to see whether it was closed, while every StreamWriter the learner opened is
still referenced (so garbage collection cannot close it for them).  Leftover tasks are
then cancelled and gathered, and what asyncio would print goes to the loop's exception
handler instead of the notebook.

This module holds the checks; the servers are in :mod:`._call_all_servers`, the loop
the learner's coroutine runs on in :mod:`._call_all_runner`.
"""

from __future__ import annotations

import threading

from ._call_all_runner import (
    BATCH_TIMEOUT_HINT,
    SLOT_HINT,
    TIMEOUT_HINT,
    _run_learner,
)
from ._call_all_servers import (
    SERVER_WAIT,
    TOGETHER,
    _in_turn,
    _refusing_address,
    _release_together,
    _Server,
    _stop,
)
from .model import CheckFailed, Exercise
from .registry import register
from .tools import show_bytes

__all__ = ["call_all"]

call_all = Exercise(
    "call_all",
    lesson="07-event-loop",
    summary=(
        "Call many servers at once with asyncio; each reply (or error) in its own slot, in order."
    ),
)

HALF_CLOSE_HINT = (
    "after writer.write(message) and await writer.drain(), call writer.write_eof(): the server "
    "reads until the end of your message, and only a half-close tells it the message is complete"
)
READ_ALL_HINT = (
    "read until the server hangs up: await reader.read() with no size (or loop until read() "
    "returns b''); one read(n) gives whatever has arrived so far"
)
TOGETHER_HINT = (
    "start every call before waiting for any: put one coroutine per address in "
    "asyncio.gather(...) or an asyncio.TaskGroup, instead of awaiting them one by one in a loop"
)
BLOCKING_HINT = (
    "a blocking call inside a coroutine (socket.recv, sendall, create_connection, time.sleep) "
    "stops the whole event loop, so gather() cannot run the other calls meanwhile: use "
    "asyncio.open_connection and await reader.read() / writer.drain()"
)


def _describe(slot) -> str:
    if isinstance(slot, BaseException):
        return f"{type(slot).__name__} instance"
    if isinstance(slot, (bytes, bytearray)):
        return show_bytes(bytes(slot))
    if isinstance(slot, (tuple, list, set, dict)):  # its items may show ports: not shown
        return f"a {type(slot).__name__} of {len(slot)} items"
    return repr(slot)[:60]


def _expect_list(result, n: int) -> list:
    if not isinstance(result, list) or len(result) != n:
        raise CheckFailed(
            f"call_all returned {_describe(result)}",
            expected=f"a list of {n} replies, one per address",
        )
    return result


@call_all.check("an empty list of addresses gives []")
def _(fn):
    result = _run_learner(fn, [], b"hello", 1.0)
    if result != []:
        raise CheckFailed(f"call_all([], ...) returned {_describe(result)}", expected="[]")


def _missing_half_close(result, slots) -> bool:
    """Whether a server that replies as soon as the message ends never got to reply.

    Such a server answers b'' only when it gave up waiting for the end of the message, and
    a TimeoutError in its slot means the caller ended the message (by closing) too late.
    """
    return isinstance(result, list) and any(
        i < len(result) and (isinstance(result[i], TimeoutError) or result[i] == b"") for i in slots
    )


def _half_close_failure(what: str) -> CheckFailed:
    return CheckFailed(what, hint=HALF_CLOSE_HINT, cause="half-close")


@call_all.check("sends the whole message, half-closes, and returns each whole reply in order")
def _(fn):
    message = b"hello \xff\x00 " * 2000  # not text, and more than one read's worth
    servers = [
        _Server("reply", reply=lambda m, i=i: b"server %d: " % i + m[::-1] * 5) for i in range(3)
    ]
    _in_turn(servers)  # they finish in the order of addresses: this check is not about order
    try:
        result = _expect_list(_run_learner(fn, [s.address for s in servers], message, 5.0), 3)
        for i, server in enumerate(servers):
            if isinstance(result[i], TimeoutError) or not server.got_eof.is_set():
                # These servers answer at once when the message ends; a caller who closes
                # only after its timeout ends it far too late.
                raise CheckFailed(
                    f"server {i} never replied: it was still waiting for the end of your message",
                    got=f"slot {i}: {_describe(result[i])}",
                    hint=HALF_CLOSE_HINT,
                    cause="half-close",
                )
            if server.received != message:
                raise CheckFailed(
                    f"server {i} received something other than the message",
                    sent=show_bytes(message),
                    got=show_bytes(server.received),
                    hint="send the message bytes unchanged, all of them: writer.write(message)",
                )
            expected = b"server %d: " % i + message[::-1] * 5
            if result[i] != expected:
                raise CheckFailed(
                    f"slot {i} is not the whole reply of server {i}",
                    got=_describe(result[i]),
                    expected=show_bytes(expected),
                    hint=READ_ALL_HINT,
                    cause="read all",
                )
    finally:
        _stop(servers)


@call_all.check("talks to every server at once, not one after another")
def _(fn):
    servers = [_Server("reply") for _ in range(3)]
    for server in servers:
        server.go.clear()
    outcome, box = {}, {}
    everyone = threading.Thread(target=_release_together, args=(servers, outcome, box), daemon=True)
    everyone.start()
    try:
        result = _run_learner(fn, [s.address for s in servers], b"together", 10.0, box=box)
        everyone.join(3 * TOGETHER)
        if _missing_half_close(result, range(3)):
            raise _half_close_failure("the servers never got the end of your message")
        _expect_list(result, 3)
        if not outcome.get("together"):
            if outcome.get("loop_stuck"):
                raise CheckFailed(
                    "call_all's event loop stood still while it waited for the first server",
                    sent="3 servers that each reply only once all 3 have the message",
                    hint=BLOCKING_HINT,
                    cause="blocking",
                )
            raise CheckFailed(
                "call_all waited for one server before sending to the next",
                sent="3 servers that each reply only once all 3 have the message",
                hint=TOGETHER_HINT,
                cause="one after another",
            )
    finally:
        _stop(servers)


@call_all.check("replies come back in the order of addresses, whichever finishes first")
def _(fn):
    servers = [_Server("reply", reply=lambda m, i=i: b"from %d" % i) for i in range(3)]
    for server in servers:
        server.go.clear()

    def last_first() -> None:
        # Once all three have the message, server 2 replies first, then 1, then 0.  A caller
        # who talks to one server at a time gets them in its own order (the check above
        # reports that), so this check judges the order alone, however long that takes.
        if all(s.got_eof.wait(TOGETHER) for s in servers):
            for later in servers[:0:-1]:  # 2, then 1; server 0 last, below
                later.go.set()
                later.done.wait(SERVER_WAIT)
        for server in servers:
            server.go.set()

    threading.Thread(target=last_first, daemon=True).start()
    try:
        result = _run_learner(fn, [s.address for s in servers], b"order", 10.0)
        if _missing_half_close(result, range(3)):
            raise _half_close_failure("the servers never got the end of your message")
        result = _expect_list(result, 3)
        expected = [b"from 0", b"from 1", b"from 2"]
        if result != expected:
            raise CheckFailed(
                "the replies are not in the order of addresses",
                sent="3 servers; the last one answered first",
                got=", ".join(_describe(r) for r in result),
                expected=", ".join(_describe(r) for r in expected),
                hint=(
                    "gather() keeps the order of its arguments; collecting replies as they "
                    "finish (asyncio.as_completed, appending in a callback) does not"
                ),
                cause="order",
            )
    finally:
        _stop(servers)


@call_all.check("a refusing, a silent and a resetting server each fill only their own slot")
def _(fn):
    holder, refused = _refusing_address()
    good = [
        _Server("reply", reply=lambda m: b"fine"),
        _Server("reply", reply=lambda m: b"also fine"),
    ]
    silent, reset = _Server("silent"), _Server("reset")
    addresses = [good[0].address, refused, silent.address, reset.address, good[1].address]

    def poke_silent() -> None:  # while call_all's loop and objects are still alive
        if silent.conn is not None:
            silent.probe.set()
            silent.done.wait(SERVER_WAIT)

    try:
        result = _expect_list(
            _run_learner(fn, addresses, b"anyone?", 1.0, while_open=poke_silent), 5
        )
        if all(isinstance(r, TimeoutError) for r in result):
            raise CheckFailed(
                "every slot holds a TimeoutError instance, the servers that replied too",
                sent="servers: replies, refuses, stays silent, resets, replies (timeout 1 s)",
                hint=BATCH_TIMEOUT_HINT,
                cause="batch timeout",
            )
        if result[0] != b"fine" and b"fine" in result:
            raise CheckFailed(
                "the slots are not in the order of addresses: slot 0 does not hold b'fine'",
                hint="gather() keeps the order of its arguments; as_completed() does not",
                cause="order",
            )
        if _missing_half_close(result, (0, 4)):
            raise _half_close_failure("the servers that reply never got the end of your message")
        checks = [
            (0, lambda r: r == b"fine", "b'fine'", READ_ALL_HINT),
            (
                1,
                lambda r: isinstance(r, ConnectionRefusedError),
                "a ConnectionRefusedError instance",
                SLOT_HINT,
            ),
            (2, lambda r: isinstance(r, TimeoutError), "a TimeoutError instance", TIMEOUT_HINT),
            (
                3,
                lambda r: isinstance(r, OSError) and not isinstance(r, TimeoutError),
                "an OSError instance (the reset)",
                SLOT_HINT,
            ),
            (4, lambda r: r == b"also fine", "b'also fine'", READ_ALL_HINT),
        ]
        for i, ok, expected, hint in checks:
            if not ok(result[i]):
                raise CheckFailed(
                    f"slot {i} holds {_describe(result[i])}",
                    sent="servers: replies, refuses, stays silent, resets, replies (timeout 1 s)",
                    expected=expected,
                    hint=hint,
                    cause="read all" if hint is READ_ALL_HINT else "",
                )
        if not silent.caller_closed:
            raise CheckFailed(
                "the connection to the server that timed out was still open when call_all "
                "returned (the server poked it and got no reset)",
                hint="close the writer when a call times out (writer.close() in a finally: block)",
            )
    finally:
        holder.close()
        _stop(good + [silent, reset])


register(call_all)
