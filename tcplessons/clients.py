"""Small, bounded client helpers for notebook cells.

``connect(address)`` is ``socket.create_connection`` with a timeout, so a mistake fails
the cell in seconds instead of freezing it.  ``call(address, data)`` is a whole phone
call: dial, say everything, hang up your side, listen until the other side hangs up.
"""

from __future__ import annotations

import socket

__all__ = ["call", "connect"]

#: Seconds any helper here waits before giving up.
DEFAULT_TIMEOUT = 5.0


def connect(address: tuple[str, int], timeout: float = DEFAULT_TIMEOUT) -> socket.socket:
    """Dial ``address`` (a ``(host, port)`` tuple); the socket keeps ``timeout``.

    Use it in a ``with`` block so the line is hung up even if the cell fails.
    """
    return socket.create_connection(address, timeout=timeout)


def call(address: tuple[str, int], data: bytes, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """Send ``data``, shut down our write side, and return everything the server sends
    back before it hangs up.  Raises ``TimeoutError`` if the server never hangs up."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"call() sends bytes, not {type(data).__name__}: try {data!r}.encode()")
    with connect(address, timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)  # "I have finished talking" — the server sees b""
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
