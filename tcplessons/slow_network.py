"""A slow network on your own computer: a line that delivers its bytes in small pieces.

On one computer talking to itself, a short message nearly always comes out of a single
``recv()``.  Over a real network it may not, and code that assumes "one ``recv()`` is
one message" breaks there.  :func:`deliver_in_pieces` makes that day happen now::

    slow = deliver_in_pieces(line, at_most=5)   # use `slow` instead of `line` from now on
    slow.recv(1024)                             # at most 5 bytes, however many arrived

Then read with a loop, as lesson 02's ``recv_exactly`` does.
"""

from __future__ import annotations

import socket

from .exercises.tools import ShortRecvSocket

__all__ = ["deliver_in_pieces"]


def deliver_in_pieces(line: socket.socket, at_most: int = 5) -> socket.socket:
    """Return a socket for the same call as ``line`` whose ``recv()`` gives ``at_most``
    bytes at a time, however many have arrived.

    The returned socket takes over the call: use it instead of ``line`` (which is left
    without a connection) and close it when you are done.  Everything else — ``sendall``,
    timeouts, ``close`` — works as on any socket.
    """
    if at_most < 1:
        raise ValueError(f"at_most must be 1 or more, not {at_most!r}")
    # The exercise checks use the same socket class to feed learners' code small pieces.
    return ShortRecvSocket.adopt(line, limit=at_most)
