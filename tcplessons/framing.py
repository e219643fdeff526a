"""Framing: turning a stream of bytes back into messages.

TCP delivers a stream of bytes, not messages: three ``sendall()`` calls on one side may
arrive as one ``recv()`` on the other, or as ten.  A *framing* rule says where one message
ends and the next begins.  This module has the two rules the course uses, written
"sans-IO" (bytes in, messages out, no sockets), so they can be tested by feeding bytes in
any pieces you like:

- lines ending in ``"\\n"`` (or ``"\\r\\n"``, as ``telnet`` sends them)::

      lines = LineSplitter()
      lines.feed(b"hel")          # []          the line is not finished yet
      lines.feed(b"lo\\nwor")      # ['hello']   'wor' waits for the next feed
      lines.feed(b"")             # ['wor']     b"" means the peer hung up

- a 4-byte big-endian length, then that many bytes (a *length prefix*)::

      wire = encode_frame("héllo")          # b'\\x00\\x00\\x00\\x06h\\xc3\\xa9llo'
      frames = FrameDecoder()
      frames.feed(wire[:3])                  # []
      frames.feed(wire[3:])                  # ['héllo']

The socket adapters at the end (:func:`read_lines`, :func:`send_frame`,
:func:`recv_frame`) are thin: they only move bytes between a socket and these objects.
"""

from __future__ import annotations

import codecs
import socket
import struct
from collections.abc import Iterator

__all__ = [
    "FrameDecoder",
    "FrameTooLarge",
    "LineSplitter",
    "LineTooLong",
    "encode_frame",
    "read_lines",
    "recv_frame",
    "send_frame",
]

#: The length prefix: 4 bytes, big-endian ("network byte order"), unsigned.
HEADER = struct.Struct(">I")

#: Default limits, so a peer that never sends a newline cannot fill our memory.
MAX_LINE = 64 * 1024  # characters
MAX_FRAME = 16 * 1024 * 1024  # bytes


class LineTooLong(ValueError):
    """A peer sent more than ``max_line`` characters without a newline."""


class FrameTooLarge(ValueError):
    """A length prefix announced a message larger than ``max_size`` bytes."""


class LineSplitter:
    """Split a byte stream into lines of text.

    Call :meth:`feed` with each piece of bytes as it arrives; it returns the lines that
    piece finished.  Text is decoded as UTF-8 *incrementally*, so a character split
    across two pieces is decoded once both halves are here; bytes that are not UTF-8
    become ``"\\ufffd"`` (the replacement character) instead of raising.  Line endings
    ``"\\n"`` and ``"\\r\\n"`` are removed.

    ``feed(b"")`` says the peer hung up: it returns the unfinished line, if any.  A line
    longer than ``max_line`` characters, or ``max_bytes`` bytes on the wire (without
    its line ending; None: no byte limit), raises :class:`LineTooLong` (then hang up on
    that peer: it is either broken or hostile).  The chat server of lesson 06 reads its
    callers with one of these, with ``max_bytes`` set.
    """

    def __init__(self, max_line: int | None = MAX_LINE, max_bytes: int | None = None):
        self.max_line = max_line if max_line is not None else float("inf")
        self.max_bytes = max_bytes
        self._pending_bytes = 0  # bytes on the wire after the last b"\n"
        self._pending_cr = False  # whether those bytes end with b"\r"
        # Why an incremental decoder: it keeps the first bytes of a split character
        # until the rest arrives, where bytes.decode() on each piece would fail.
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""  # decoded text after the last newline
        self.closed = False

    def feed(self, data: bytes) -> list[str]:
        """Add ``data``; return the complete lines it finished, in order (maybe ``[]``)."""
        if self.closed:
            if data:
                raise ValueError("feed() after feed(b''): the peer already hung up")
            return []
        if not data:
            self.closed = True
            rest = self._pending + self._decoder.decode(b"", final=True)
            self._pending = ""
            return [_strip_cr(rest)] if rest else []
        if self.max_bytes is not None:
            self._count_bytes(bytes(data))
        text = self._decoder.decode(bytes(data))
        if "\n" not in text:
            self._pending += text
            self._check_length()
            return []
        parts = (self._pending + text).split("\n")
        self._pending = parts.pop()  # after the last "\n": not finished yet
        self._check_length()
        lines = [_strip_cr(line) for line in parts]
        longest = max(map(len, lines))
        if longest > self.max_line:
            raise LineTooLong(f"a line of {longest} characters; the limit is {self.max_line}")
        return lines

    def _count_bytes(self, data: bytes) -> None:
        """Raise LineTooLong if ``data`` makes a line longer than ``max_bytes`` bytes."""
        limit = self.max_bytes
        pieces = data.split(b"\n")
        rest = pieces.pop()  # after the last b"\n": not finished yet
        so_far, ends_cr = self._pending_bytes, self._pending_cr
        for piece in pieces:
            size = so_far + len(piece)
            if piece.endswith(b"\r") or (not piece and ends_cr):
                size -= 1  # its line ending, not part of the line
            if size > limit:
                raise self._too_long(f"a line longer than {limit} bytes")
            so_far, ends_cr = 0, False
        size = so_far + len(rest)
        ends_cr = rest.endswith(b"\r") or (not rest and ends_cr)
        if size - ends_cr > limit:  # a last "\r" may still become a line ending
            raise self._too_long(f"more than {limit} bytes without a newline")
        self._pending_bytes, self._pending_cr = size, ends_cr

    def _too_long(self, why: str) -> LineTooLong:
        self._pending, self._pending_bytes, self._pending_cr = "", 0, False
        return LineTooLong(why)

    @property
    def pending(self) -> str:
        """The unfinished line so far (without any half-received character)."""
        return self._pending

    def _check_length(self) -> None:
        if len(_strip_cr(self._pending)) > self.max_line:  # a "\r" may await its "\n"
            size = len(self._pending)
            self._pending = ""
            raise LineTooLong(
                f"a line longer than {self.max_line} characters ({size} so far) without a newline"
            )

    def __repr__(self) -> str:
        return f"<LineSplitter pending={len(self._pending)} chars>"


def _strip_cr(line: str) -> str:
    return line[:-1] if line.endswith("\r") else line


def encode_frame(message: str | bytes) -> bytes:
    """The bytes that carry ``message`` on the wire: a 4-byte big-endian length, then it.

    Text is encoded as UTF-8 first: the length counts *bytes*, not characters.
    """
    payload = message.encode("utf-8") if isinstance(message, str) else bytes(message)
    if len(payload) > 0xFFFFFFFF:
        raise FrameTooLarge(f"{len(payload)} bytes do not fit a 4-byte length")
    return HEADER.pack(len(payload)) + payload


class FrameDecoder:
    """Split a byte stream into length-prefixed messages.

    :meth:`feed` returns the messages that piece of bytes finished (``str`` decoded as
    UTF-8, or ``bytes`` with ``text=False``); bytes after the end of a message are kept
    for the next one.  ``feed(b"")`` (the peer hung up) raises ``EOFError`` if half a
    message is left over.
    """

    def __init__(self, max_size: int = MAX_FRAME, text: bool = True):
        self.max_size = max_size
        self.text = text
        self._buffer = bytearray()
        self.closed = False

    def feed(self, data: bytes) -> list[str | bytes]:
        """Add ``data``; return every message now complete, in order (maybe ``[]``)."""
        if not data:
            self.closed = True
            if self._buffer:
                left = len(self._buffer)
                self._buffer.clear()
                raise EOFError(
                    f"the peer hung up in the middle of a message ({left} bytes left over)"
                )
            return []
        self._buffer += data
        messages: list[str | bytes] = []
        while len(self._buffer) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._buffer)
            if size > self.max_size:
                raise FrameTooLarge(
                    f"a message of {size} bytes is announced; the limit is {self.max_size}"
                )
            end = HEADER.size + size
            if len(self._buffer) < end:
                break  # the rest of this message has not arrived yet
            payload = bytes(self._buffer[HEADER.size : end])
            del self._buffer[:end]  # leftovers stay for the next message
            messages.append(payload.decode("utf-8", errors="replace") if self.text else payload)
        return messages

    def __repr__(self) -> str:
        return f"<FrameDecoder buffered={len(self._buffer)} bytes>"


# -- thin socket adapters ------------------------------------------------------------------


def read_lines(
    sock: socket.socket, splitter: LineSplitter | None = None, bufsize: int = 4096
) -> Iterator[str]:
    """Yield each line ``sock`` delivers until the peer hangs up (then the last, unfinished
    line, if any).  Set a timeout on ``sock`` to bound each wait."""
    splitter = splitter or LineSplitter()
    while True:
        data = sock.recv(bufsize)
        yield from splitter.feed(data)
        if not data:
            return


def send_frame(sock: socket.socket, message: str | bytes) -> None:
    """Send one length-prefixed message (``sendall``: every byte, or an exception)."""
    sock.sendall(encode_frame(message))


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    buffer = bytearray()
    while len(buffer) < n:
        chunk = sock.recv(min(n - len(buffer), 65536))  # never read past this message
        if not chunk:
            raise EOFError(f"the peer hung up after {len(buffer)} of {n} bytes")
        buffer += chunk
    return bytes(buffer)


def recv_frame(sock: socket.socket, max_size: int = MAX_FRAME, text: bool = True) -> str | bytes:
    """Read exactly one length-prefixed message from ``sock`` (nothing past its end).

    Raises ``EOFError`` if the peer hangs up before the whole message has arrived.
    """
    (size,) = HEADER.unpack(_read_exactly(sock, HEADER.size))
    if size > max_size:
        raise FrameTooLarge(f"a message of {size} bytes is announced; the limit is {max_size}")
    payload = _read_exactly(sock, size)
    return payload.decode("utf-8", errors="replace") if text else payload
