"""The terms of the ``ChatRoom`` checks (lesson 06): how long they wait, and the hints
they give.

Shared by the harness (:mod:`._chat_harness`), the diagnosis of a wrong delivery
(:mod:`._chat_diagnosis`) and the checks themselves (:mod:`.chat`).
"""

from __future__ import annotations

from .tools import CALL_TIMEOUT, READ_TIMEOUT

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

NEVER_READS_HINT = (
    "catch OSError, not only BrokenPipeError and ConnectionResetError: a member who never "
    "reads fills their buffers, and the send to them gives up with BlockingIOError (or a "
    "timeout) — both are OSErrors; remove that member like one who vanished"
)
