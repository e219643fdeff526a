"""The texts of lesson 03's hints: what ``handle_echo`` and ``echo_client`` get wrong.

Both exercises' checks quote them (:mod:`tcplessons.exercises.echo` for ``handle_echo``,
:mod:`tcplessons.exercises.echo_client` for ``echo_client``), some from each, so they live
in one place.
"""

from __future__ import annotations

LESSON = "03-echo-server"

HANGUP_HINT = (
    "recv() returns b'' when the caller hangs up: stop reading then, and close conn "
    "(a `with conn:` block does it for you)"
)
SENDALL_HINT = (
    "send() may write only part of the data and returns how many bytes it wrote; "
    "sendall() keeps going until every byte is sent"
)
KEEP_READING_HINT = (
    "recv() returned only part of the data — TCP is a stream; keep calling recv() "
    "until it returns b'' (the caller hung up)"
)
BYTES_HINT = (
    "the data need not be text: send back exactly the bytes you received, without decoding them"
)
SHUTDOWN_HINT = (
    "the server waits for the end of your message while you wait for its reply: after "
    "sendall(), call sock.shutdown(socket.SHUT_WR) to say you have finished sending"
)
PAUSE_HINT = (
    "a pause is not a hang-up: only recv() returning b'' means the other side has "
    "finished; do not stop on a timeout (socket.timeout) or on BlockingIOError"
)
SHUT_RDWR_HINT = (
    "you closed your own reading side too: use SHUT_WR. shutdown(socket.SHUT_RDWR) (or "
    "SHUT_RD) also stops your socket from receiving, so the reply is lost; "
    'shutdown(socket.SHUT_WR) says only "I have finished sending"'
)
