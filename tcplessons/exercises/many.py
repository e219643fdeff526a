"""Checks for lesson 05's exercise ``serve_many(listener, handler)``.

The contract: accept callers on ``listener`` and run ``handler(conn)`` for each in a
thread of its own, so a caller who stays on the line never keeps the next one waiting.
Return quietly (no exception) once the listener is shut down or closed.

Each check hands the learner's ``serve_many`` a real listening socket on 127.0.0.1 and
a handler of the check's own, runs ``serve_many`` in a daemon thread, dials it with real
sockets and watches what the handler is given.  Every wait is bounded, so a
one-caller-at-a-time server fails in about a second instead of hanging the notebook.

How the "right line" check makes the classic late-binding bug fail every time:
``Thread(target=lambda: handler(conn))`` reads ``conn`` only when the new thread runs,
and by then the loop may have accepted the next caller.  Usually the new thread is
quicker, so the bug hides.  During that check, a thread that ``serve_many`` starts waits
before running until ``serve_many`` has started the next one (or the last caller is in),
so a thread that reads ``conn`` late always sees a later caller's line; a thread given
its own ``conn`` (``args=(conn,)``) is not affected.  (Only threads started by the
thread running ``serve_many`` wait, and only in that check.)

How the check stops a ``serve_many`` that never returns: the listener it hands over is
a socket whose ``accept()`` raises an exception ``except OSError`` cannot catch once the
check is over, so a loop that retries ``accept()`` forever cannot keep spinning in the
kernel after the report is shown.

That run of ``serve_many`` (listener, handler, held threads) is
:class:`._serve_many_harness._Harness`; this module holds the checks.
"""

from __future__ import annotations

from ._serve_many_harness import CLOSED_HINT, PROMPT, RETURN_WAIT, _Harness
from .model import CheckFailed, Exercise
from .registry import register
from .tools import show_bytes

__all__ = ["serve_many_exercise"]


#: How many callers ring at once in the "many callers" check.
CROWD = 20

serve_many_exercise = Exercise(
    "serve_many",
    lesson="05-many-callers",
    summary=(
        "Accept callers on a listener and run handler(conn) for each in a thread of its "
        "own; return quietly once the listener is shut down or closed."
    ),
)

THREAD_HINT = (
    "start a new thread for each caller (threading.Thread(target=handler, args=(conn,)).start()) "
    "and go straight back to accept(); calling handler(conn) yourself, or join()ing the thread "
    "at once, makes everyone else wait in the backlog"
)
RETURN_HINT = (
    "once the listener is shut down or closed, accept() raises OSError: that is the signal "
    "that nobody can ring any more, so catch it and return"
)


@serve_many_exercise.check("answers a second caller while the first is still on the line")
def _second_caller(fn):
    with _Harness(fn, "hold") as h:
        h.dial()
        if not h.wait_calls(1):
            h.explain()
            raise CheckFailed(
                "handler was never called for the first caller",
                sent="one caller rang",
                got=f"no handler(conn) call within {PROMPT:g} s",
                hint="accept() the caller, then run handler(conn) for it in a new thread",
            )
        h.dial()
        if not h.wait_calls(2):
            h.explain()
            raise CheckFailed(
                "the second caller was not answered while the first was still on the line",
                sent="caller 1 rang and stayed on the line; then caller 2 rang",
                got=f"handler(conn) was not called for caller 2 within {PROMPT:g} s",
                expected="handler running for both callers at the same time",
                hint=THREAD_HINT,
            )
        h.explain()


@serve_many_exercise.check(f"answers {CROWD} callers at the same time")
def _crowd(fn):
    with _Harness(fn, "hold", hold_starts=True) as h:
        clients = [h.dial() for _ in range(CROWD)]
        h.wait_starts(CROWD)
        if not h.wait_calls(CROWD):
            h.explain()
            with h.changed:
                served = len(h.peers)
            raise CheckFailed(
                f"not all {CROWD} callers were answered at once",
                sent=f"{CROWD} callers rang and stayed on the line",
                got=f"handler was running for {served} of them",
                expected=f"handler running for all {CROWD} at the same time",
                hint=(
                    "one thread per caller, started as soon as accept() returns; a pool with "
                    f"fewer than {CROWD} workers leaves the rest waiting in the backlog"
                ),
            )
        h.explain()
        with h.changed:
            peers = sorted(h.peers)
        callers = sorted(c.getsockname()[:2] for c in clients)
        if peers != callers:
            raise CheckFailed(
                "handler was not given each caller's own line",
                sent=f"{CROWD} different callers rang",
                got="some callers' lines were handed to handler twice, others never",
                hint="give each thread the conn accept() just returned: args=(conn,)",
            )


@serve_many_exercise.check("gives handler the line of the caller who rang")
def _right_line(fn):
    with _Harness(fn, "talk", hold_starts=True) as h:
        clients = [h.dial() for _ in range(5)]
        # Speak in reverse order, so a handler reading the wrong line hears the wrong name.
        for number in range(5, 0, -1):
            clients[number - 1].sendall(b"caller %d\n" % number)
        h.wait_starts(5)
        if not h.wait_exits(5):
            h.explain()
        h.explain()
        for number, client in enumerate(clients, start=1):
            said = b"caller %d\n" % number
            expected = b"hello, " + said
            reply = b""
            try:
                client.settimeout(PROMPT)
                while not reply.endswith(b"\n") and len(reply) < 100:
                    chunk = client.recv(100)
                    if not chunk:
                        break
                    reply += chunk
            except OSError:
                pass
            if reply != expected:
                raise CheckFailed(
                    f"caller {number} did not get the answer to what they said",
                    sent=f"caller {number} said {show_bytes(said)}",
                    got=show_bytes(reply) if reply else "no answer",
                    expected=show_bytes(expected),
                    hint=(
                        "give each thread the conn that accept() returned for that caller: "
                        "args=(conn,); a lambda that reads conn later may see the next caller's line"
                    )
                    if reply
                    else CLOSED_HINT,
                )


@serve_many_exercise.check("returns quietly once the listener is shut down")
def _returns_after_shutdown(fn):
    # Threads held until the caller is in: what a thread finds (its line open or
    # already closed by the loop) never depends on which thread ran first.
    with _Harness(fn, "quick", hold_starts=True) as h:
        h.dial()
        h.wait_starts(1)
        if not h.wait_exits(1):
            h.explain()
            raise CheckFailed(
                "handler was never called for the caller",
                sent="one caller rang",
                got=f"no handler(conn) call within {PROMPT:g} s",
                hint="accept() the caller, then run handler(conn) for it in a new thread",
            )
        h.explain()
        h.stop_listener()
        _judge_return(h, "after the listener was shut down and closed")


@serve_many_exercise.check("returns quietly if the listener is already closed")
def _returns_when_closed(fn):
    with _Harness(fn, "quick", closed=True) as h:
        _judge_return(h, "when given a listener that was already closed")


def _judge_return(h: _Harness, when: str) -> None:
    if not h.wait_return():
        raise CheckFailed(
            f"serve_many did not return within {RETURN_WAIT:g} s {when}",
            expected="serve_many returns, so the thread running it ends",
            hint=RETURN_HINT + " (retrying accept() on a closed listener fails again forever)",
        )
    how, value = h.outcome
    if how == "raised":
        if isinstance(value, NotImplementedError):
            raise value
        raise CheckFailed(
            f"serve_many raised {type(value).__name__} {when}",
            got=f"{type(value).__name__} escaped from serve_many",
            expected="serve_many returns quietly, without an exception",
            hint=RETURN_HINT,
        )
    if h.problems:
        h.explain()


register(serve_many_exercise)
