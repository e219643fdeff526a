"""RESP, the Redis protocol: a sans-IO reader for requests and encoders for replies.

Clients send each command as an array of bulk strings (``*2\\r\\n$3\\r\\nGET\\r\\n$1\\r\\nk\\r\\n``)
or, typed by a person in ``nc``, as one inline line (``GET k\\r\\n``).  Feed the bytes you
receive to a :class:`RespReader`; it returns the commands they complete, each a list of
``bytes`` arguments::

    reader = RespReader()
    reader.feed(b"*1\\r\\n$4\\r\\nPI")          # []  (not finished yet)
    reader.feed(b"NG\\r\\nECHO hi\\r\\n")         # [[b'PING'], [b'ECHO', b'hi']]

Then answer each with the encoders below (:func:`simple`, :func:`error`, :func:`integer`,
:func:`bulk`, :data:`NULL`, :func:`array`).  Malformed input raises
:class:`RespProtocolError` (a ``ValueError``) with the text Redis sends
(``Protocol error: invalid bulk length``); Redis then replies with it and hangs up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "MAX_BULK",
    "MAX_INLINE",
    "NULL",
    "OK",
    "RespProtocolError",
    "RespReader",
    "array",
    "bulk",
    "error",
    "integer",
    "parse_integer",
    "protocol_error_reply",
    "simple",
    "split_inline",
]

#: Longest bulk string a request may announce (Redis's proto-max-bulk-len: 512 MiB).
MAX_BULK = 512 * 1024 * 1024
#: Longest unfinished line Redis keeps before giving up (PROTO_INLINE_MAX_SIZE: 64 KiB).
MAX_INLINE = 64 * 1024
_INT_MAX = 2**31 - 1
_LLONG_MIN, _LLONG_MAX = -(2**63), 2**63 - 1

# Lengths seen all the time, checked once: a dict lookup is the fast path of the reader.
_KNOWN_NUMBERS = {str(n).encode(): n for n in range(-1, 10_000)}
_SHORT = 10_000  # bulks shorter than this take the fast path of the reader
_BULK_HEADERS = [b"$%d" % n for n in range(_SHORT)]


class RespProtocolError(ValueError):
    """Bytes that are not RESP; the message is Redis's own (``Protocol error: ...``)."""


def parse_integer(digits: bytes) -> int | None:
    """The number ``digits`` spells if it is a canonical 64-bit decimal, else ``None``.

    Redis's ``string2ll`` rules: an optional ``-``, no ``+``, no spaces, no ``_``, no
    leading zeros, no ``-0``.  Python's ``int()`` accepts several of those, so the text is
    checked by turning the number back into text.
    """
    known = _KNOWN_NUMBERS.get(digits)
    if known is not None:
        return known
    if not 0 < len(digits) < 21:
        return None
    try:
        value = int(digits)
    except ValueError:
        return None
    if b"%d" % value != digits or not _LLONG_MIN <= value <= _LLONG_MAX:
        return None
    return value


_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}
_HEX = b"0123456789abcdefABCDEF"
_BLANK = b" \t\n\r\x0b\x0c"  # isspace(): what separates words
_WORD_END = b" \t\n\r"  # what ends an unquoted word (not \v, not \f)
_UNUSUAL = re.compile(rb"['\"\x0b\x0c]")


def split_inline(line: bytes) -> list[bytes]:
    """The words of an inline command, as Redis's ``sdssplitargs`` splits them.

    Words are separated by white space; ``"double quotes"`` take escapes (``\\n``,
    ``\\x41``) and ``'single quotes'`` keep their text.  Unbalanced quotes raise
    :class:`RespProtocolError`.
    """
    if b"\0" in line:  # Redis splits a C string: a NUL byte ends the line
        line = line[: line.index(b"\0")]
    if not _UNUSUAL.search(line):
        return line.split()
    words, i, n = [], 0, len(line)
    while True:
        while i < n and line[i] in _BLANK:
            i += 1
        if i == n:
            return words
        word = bytearray()
        quote = 0  # 0: plain, 34: inside "...", 39: inside '...'
        while True:
            if i == n:
                if quote:
                    raise RespProtocolError("Protocol error: unbalanced quotes in request")
                break
            c = line[i]
            if (
                quote == 34
                and c == 92
                and i + 3 < n
                and line[i + 1] == ord("x")
                and all(h in _HEX for h in line[i + 2 : i + 4])
            ):
                word.append(int(line[i + 2 : i + 4], 16))
                i += 3
            elif quote == 34 and c == 92 and i + 1 < n:
                i += 1
                word.append(_ESCAPES.get(line[i], line[i]))
            elif quote == 39 and c == 92 and i + 1 < n and line[i + 1] == 39:
                word.append(39)
                i += 1
            elif quote and c == quote:
                if i + 1 < n and line[i + 1] not in _BLANK:
                    raise RespProtocolError("Protocol error: unbalanced quotes in request")
                quote, i = 0, i + 1
                break
            elif quote:
                word.append(c)
            elif c in _WORD_END:
                break
            elif c in (34, 39):
                quote = c
            else:
                word.append(c)
            i += 1
        words.append(bytes(word))


class RespReader:
    """Sans-IO reader of Redis requests: ``feed(data)`` returns the commands ``data``
    completes (each a list of ``bytes``), in order; ``feed(b"")`` means the client hung up.

    Memory stays bounded: a bulk announced longer than ``max_bulk`` or a line longer than
    ``max_inline`` is refused as soon as it is seen.  A server that wants the commands
    before a malformed one too (as Redis runs them) calls :meth:`read` instead.
    """

    def __init__(self, max_bulk: int = MAX_BULK, max_inline: int = MAX_INLINE):
        self.max_bulk, self.max_inline = max_bulk, max_inline
        self._pending = bytearray()  # the start of an unfinished command
        self._need = 0  # no use parsing again before the buffer is this long
        self._error: RespProtocolError | None = None

    @property
    def buffered(self) -> int:
        """Bytes held for a command that is not finished yet."""
        return len(self._pending)

    def feed(self, data: bytes) -> list[list[bytes]]:
        """The commands ``data`` completes; raises :class:`RespProtocolError` on bad
        input, ``EOFError`` on ``b""`` in the middle of a command."""
        commands, problem = self.read(data)
        if problem is not None and not commands:
            raise problem  # and again on every later feed: the stream is broken
        return commands

    def read(self, data: bytes) -> tuple[list[list[bytes]], Exception | None]:
        """``(commands, problem)``: every command complete before any problem, and the
        problem (a :class:`RespProtocolError`, or ``EOFError`` at a hang-up mid-command)."""
        if self._error is not None:
            return [], self._error
        if not data:
            if self._pending:
                self._pending.clear()
                return [], EOFError("the client hung up in the middle of a command")
            return [], None
        if self._pending:
            self._pending += data
            if len(self._pending) < self._need:
                return [], None
            data = bytes(self._pending)
            self._pending.clear()
        commands: list[list[bytes]] = []
        try:
            pos = self._parse(data, commands)
        except RespProtocolError as problem:
            self._error = problem
            return commands, problem
        if pos < len(data):
            self._pending += memoryview(data)[pos:]
        return commands, None

    def _parse_plain(self, buf: bytes, out: list[list[bytes]]) -> int:
        """The fast path: arrays of short bulks whose payloads hold no ``\\r\\n``, which
        is what clients send nearly always.  One ``split()`` does the scanning; each
        payload is checked against its announced length.  Returns where it stopped: at
        the end, or at the first command it cannot vouch for (the careful path takes it
        from there)."""
        parts = buf.split(b"\r\n")
        last = len(parts) - 1  # parts[last] is what follows the final \r\n
        known, header_of, i = _KNOWN_NUMBERS.get, _BULK_HEADERS.__getitem__, 0
        while i < last:
            head = parts[i]
            if head[:1] != b"*":
                break
            count = known(head[1:])
            end = i + 1 + 2 * (count or 0)
            if not count or count < 0 or end > last:
                break
            args = parts[i + 2 : end : 2]
            try:  # each payload as long as its header says (all in C: map, not a loop)
                if list(map(header_of, map(len, args))) != parts[i + 1 : end : 2]:
                    break
            except IndexError:  # a long payload: the careful path counts it
                break
            out.append(args)
            i = end
        if i == last:
            return len(buf) - len(parts[last])
        return len(buf) - sum(map(len, parts[i:])) - 2 * (last - i)

    def _parse(self, buf: bytes, out: list[list[bytes]]) -> int:
        """Append every complete command in ``buf`` to ``out``; return where the first
        unfinished one starts.  Mirrors Redis's processMultibulkBuffer/processInlineBuffer."""
        self._need = 0
        pos = self._parse_plain(buf, out) if buf[:1] == b"*" and self.max_bulk >= _SHORT else 0
        known, find, n = _KNOWN_NUMBERS.get, buf.find, len(buf)
        while pos < n:
            if buf[pos] != 42:  # not '*': an inline command, up to '\n'
                end = find(b"\n", pos)
                if end >= 0 and find(b"\0", pos, end) >= 0:
                    end = -1  # Redis looks for '\n' with strchr(), which stops at a NUL
                if end < 0:
                    if n - pos > self.max_inline:
                        raise RespProtocolError("Protocol error: too big inline request")
                    return pos
                stop = end - 1 if end > pos and buf[end - 1] == 13 else end
                words = split_inline(buf[pos:stop])
                pos = end + 1
                if words:
                    out.append(words)
                continue
            cr = find(b"\r", pos)
            if cr < 0 or cr + 1 >= n:
                if cr < 0 and n - pos > self.max_inline:
                    raise RespProtocolError("Protocol error: too big mbulk count string")
                return pos
            count = known(buf[pos + 1 : cr])
            if count is None:
                count = parse_integer(buf[pos + 1 : cr])
                if count is None or count > _INT_MAX:
                    raise RespProtocolError("Protocol error: invalid multibulk length")
            p = cr + 2  # Redis skips the byte after '\r' without looking at it
            if count <= 0:
                pos = p
                continue
            args = []
            append = args.append
            for _ in range(count):
                cr = find(b"\r", p)
                if cr < 0 or cr + 1 >= n:
                    if cr < 0 and n - p > self.max_inline:
                        raise RespProtocolError("Protocol error: too big bulk count string")
                    return pos
                if buf[p] != 36:  # '$'
                    got = bytes([buf[p]]).decode("utf-8", "surrogateescape")
                    raise RespProtocolError(f"Protocol error: expected '$', got '{got}'")
                size = known(buf[p + 1 : cr])
                if size is None or size < 0:
                    size = parse_integer(buf[p + 1 : cr])
                    if size is None or size < 0 or size > self.max_bulk:
                        raise RespProtocolError("Protocol error: invalid bulk length")
                start = cr + 2
                p = start + size + 2  # the two bytes after the payload are skipped unread
                if p > n:
                    self._need = p - pos
                    return pos
                append(buf[start : p - 2])
            out.append(args)
            pos = p
        return pos


def protocol_error_reply(problem: Exception) -> bytes:
    """What Redis sends before hanging up on malformed input: ``-ERR Protocol error: ...``."""
    return error(f"ERR {problem}")


# -- replies ---------------------------------------------------------------------------------

OK = b"+OK\r\n"
#: The null bulk string: what GET answers for a missing key.
NULL = b"$-1\r\n"


def simple(text: str) -> bytes:
    """A simple string: ``+OK\\r\\n``.  It must not contain ``\\r`` or ``\\n``."""
    return b"+" + text.encode() + b"\r\n"


def error(text: str) -> bytes:
    """An error reply: ``error("ERR no such key")`` is ``-ERR no such key\\r\\n``.

    ``\\r`` and ``\\n`` become spaces, as Redis makes them, so an error never breaks the
    protocol.
    """
    text = text.strip("\r\n").replace("\r", " ").replace("\n", " ")
    return b"-" + text.encode("utf-8", "surrogateescape") + b"\r\n"


def integer(value: int) -> bytes:
    """An integer reply: ``:42\\r\\n``."""
    return b":%d\r\n" % value


def bulk(value: bytes | None) -> bytes:
    """A bulk string, binary-safe (``$5\\r\\nhello\\r\\n``); ``None`` gives the null bulk."""
    if value is None:
        return NULL
    return b"$%d\r\n%b\r\n" % (len(value), value)


def array(items: Iterable[bytes] | None) -> bytes:
    """An array of bulk strings (``*2\\r\\n$1\\r\\na\\r\\n$1\\r\\nb\\r\\n``); ``None`` gives
    the null array ``*-1``.  Items that are already encoded replies: :func:`array_of`."""
    if items is None:
        return b"*-1\r\n"
    items = list(items)
    return b"*%d\r\n" % len(items) + b"".join(b"$%d\r\n%b\r\n" % (len(v), v) for v in items)


def array_of(replies: list[bytes]) -> bytes:
    """An array whose items are already encoded replies (integers, nested arrays...)."""
    return b"*%d\r\n" % len(replies) + b"".join(replies)
