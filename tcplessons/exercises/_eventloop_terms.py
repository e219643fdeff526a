"""The terms of the ``echo_loop`` checks (lesson 07): how long they wait, the limits they
hold a loop to, and the hints they give.

Shared by the harness (:mod:`._eventloop_harness`), the watch on the loop thread
(:mod:`._eventloop_watch`) and the checks themselves (:mod:`.eventloop`).
"""

from __future__ import annotations

#: Seconds to wait for something a working loop does at once (an echo, a close).
PROMPT = 3.0
#: Seconds to wait for echo_loop to return once woken.
RETURN_WAIT = 2.0
#: Bytes of unsent echo a caller may have before the loop stops reading from it.
LIMIT = 1 << 20
#: What a caller who never reads may push into a loop with backpressure, at most.
PUSH_LIMIT = 8 * LIMIT
#: Share of a reference busy-poll loop's CPU time an idle loop may use in IDLE_WINDOW s.
IDLE_SHARE = 0.25
IDLE_WINDOW = 1.0
#: Seconds to wait for echo_loop to return when a check is over (a courtesy, not a verdict).
EXIT_WAIT = 0.5
#: Seconds between looks at whether the learner's loop has ended, while waiting for data.
SLICE = 0.05

NONBLOCKING_HINT = (
    "make every accepted socket non-blocking (conn.setblocking(False)) and call recv() only "
    "on a socket the selector reported readable; one blocking call stalls every caller"
)
OUTBOX_HINT = (
    "send() returns how many bytes the operating system took, and may take only part: keep "
    "the rest in that caller's outbox (outbox = outbox[sent:]) and send it when the socket is "
    "writable"
)
FLUSH_HINT = (
    "when recv() returns b'' the caller only stopped sending: keep its connection until its "
    "outbox is empty, then unregister and close it"
)
WRITE_INTEREST_HINT = (
    "register EVENT_WRITE only while a caller's outbox holds bytes and drop it when the outbox "
    "empties (selector.modify(conn, EVENT_READ)); a socket with room in its buffer is always "
    "writable, so select() returns at once and the loop spins"
)
HUNG_UP_SPIN_HINT = (
    "unregister and close a caller once it has hung up (recv() returned b'' and its outbox is "
    "empty): a closed stream is always readable, so select() returns at once and the loop spins"
)
BACKPRESSURE_HINT = (
    "stop reading from a caller whose outbox holds more than 1 MiB (watch only EVENT_WRITE) and "
    "read again once it drains below that; otherwise a caller who never reads fills your memory"
)
WAKEUP_HINT = (
    "register wakeup with the selector for EVENT_READ; when it is readable (a byte arrived, or "
    "recv() gives b'' because the other end closed), close every caller and return (return, "
    "not break: break inside `for key, events in selector.select():` leaves only that for loop)"
)
BLOCKING_IO_HINT = (
    'BlockingIOError is a non-blocking socket saying "not now": recv() or accept() when '
    "nothing is waiting, send() or sendall() when the buffer is full. Call recv() and accept() "
    "only on a socket select() reported readable; answer with send() (never sendall(), which "
    "cannot finish on a non-blocking socket) and keep what it did not take in the caller's "
    "outbox; where it can still happen, catch BlockingIOError and wait for the next event"
)
STUCK_HINT = (
    "every call in the loop must return at once: call recv() once per readable event (not "
    "until b''), send() once per writable event (not sendall()), and go back to select(); "
    "make accepted sockets non-blocking (conn.setblocking(False))"
)
IDLE_HINT_SELECT = (
    "call select() with no timeout (or one of a second or so): select(0) returns at once "
    "and turns the loop into a busy poll"
)
CLOSE_HINT = (
    "before returning, close every caller's socket (keep them in a dict or set to find them)"
)
RESET_HINT = (
    "a reset raises ConnectionResetError (an OSError) from recv() or send(): treat it like a "
    "hang-up (unregister and close that caller) and carry on with the others"
)
RESET_SEND_HINT = (
    "a reset can meet send() (or sendall()) too, not only recv(): catch OSError around every "
    "call on a caller's socket, and treat it like a hang-up (unregister and close that caller)"
)
RESET_KEPT_HINT = (
    "a caller whose recv() or send() raised an OSError is gone: unregister and close it (a "
    "reset socket stays readable for ever, so the loop would meet the same error again and "
    "again)"
)


def stuck_hint(line: str) -> str:
    """The hint for a loop stuck at ``line`` (the learner's code, or "")."""
    if "accept(" in line:
        return (
            "accept() on a blocking listener waits for the next caller: make the listener "
            "non-blocking (listener.setblocking(False)) and call accept() only when select() "
            "reports the listener readable"
        )
    if "sendall(" in line:
        return (
            "sendall() waits until the caller has read everything, and a caller may never "
            "read: call send() once per writable event and keep what it did not take in the "
            "caller's outbox"
        )
    if "recv(" in line:
        return (
            "recv() on a blocking socket waits for the caller to speak: make accepted sockets "
            "non-blocking (conn.setblocking(False)) and call recv() once per readable event "
            "(not in a loop until b''), then go back to select()"
        )
    return STUCK_HINT
