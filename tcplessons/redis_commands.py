"""The course's Redis commands: what the server answers, byte for byte as Redis 7 does.

:func:`execute` takes a :class:`Session` (one client's state: its database, its protocol
version) and one command from a :class:`~tcplessons.resp.RespReader`, and returns the
encoded reply.  This module holds the dispatcher and the string, key, connection and
server commands are in :mod:`tcplessons.redis_connection`, lists, sets, hashes and sorted
sets (what ``redis-benchmark``'s default tests need) in :mod:`tcplessons.redis_types`.

To add a command: write ``def cmd_name(session, args) -> bytes`` and register it with
``@command("NAME", arity)`` (Redis's arity: ``n`` exactly, ``-n`` at least n, both
counting the command's own name).
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable

from .resp import NULL, OK, array, bulk, error, integer, parse_integer, simple

__all__ = [
    "COMMANDS",
    "Keyspace",
    "Session",
    "command",
    "execute",
    "wrong_arity",
    "unknown_command_error",
]

WRONGTYPE = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
NOT_AN_INTEGER = b"-ERR value is not an integer or out of range\r\n"
SYNTAX_ERROR = b"-ERR syntax error\r\n"
REDIS_VERSION = "7.0.15"
DATABASES = 16

Command = Callable[["Session", list[bytes]], bytes]
#: upper-case name -> (function, arity, lower-case name as Redis reports it)
COMMANDS: dict[bytes, tuple[Command, int, str]] = {}


def command(name: str, arity: int) -> Callable[[Command], Command]:
    """Register ``fn`` as the command ``name`` (see the module docstring for arity)."""

    def add(fn: Command) -> Command:
        COMMANDS[name.upper().encode()] = (fn, arity, name.lower())
        return fn

    return add


class Keyspace:
    """One database: ``data`` maps keys to bytes, deque, set, dict or SortedSet values;
    ``expires`` maps the keys that have a time to live to their deadline (ms)."""

    __slots__ = ("data", "expires")

    def __init__(self) -> None:
        self.data: dict = {}
        self.expires: dict[bytes, int] = {}

    def expire_if_due(self, key: bytes) -> None:
        """Forget ``key`` if its deadline has passed (Redis expires lazily, too)."""
        deadline = self.expires.get(key)
        if deadline is not None and deadline <= time.time() * 1000:
            del self.expires[key]
            self.data.pop(key, None)

    def get(self, key: bytes):
        if self.expires:
            self.expire_if_due(key)
        return self.data.get(key)

    def delete(self, key: bytes) -> bool:
        if self.expires:
            self.expire_if_due(key)
            self.expires.pop(key, None)
        return self.data.pop(key, None) is not None


class Session:
    """One client's state: the selected database and the protocol version (2 or 3)."""

    __slots__ = (
        "databases",
        "db",
        "proto",
        "name",
        "id",
        "closing",
        "queued",
        "transaction_failed",
    )

    def __init__(self, databases: list[Keyspace] | None = None, client_id: int = 1):
        self.databases = (
            databases if databases is not None else [Keyspace() for _ in range(DATABASES)]
        )
        self.db = self.databases[0]
        self.proto = 2
        self.name: bytes | None = None
        self.id = client_id
        self.closing = False  # QUIT: reply, then hang up
        self.queued: list[list[bytes]] | None = None  # commands after MULTI
        self.transaction_failed = False

    @property
    def null(self) -> bytes:
        """The null reply: ``$-1`` in RESP2, ``_`` in RESP3."""
        return NULL if self.proto == 2 else b"_\r\n"

    def map(self, pairs: list[tuple[bytes, bytes]]) -> bytes:
        """A map of encoded replies: a flat array in RESP2, ``%n`` in RESP3."""
        head = b"*%d\r\n" % (2 * len(pairs)) if self.proto == 2 else b"%%%d\r\n" % len(pairs)
        return head + b"".join(k + v for k, v in pairs)


def unknown_command_error(args: list[bytes]) -> bytes:
    """Redis 7's reply to a command it does not know: the name (up to 128 bytes) and the
    arguments, each quoted and followed by a space, until the list reaches 128 bytes."""
    shown = b""
    for arg in args[1:]:
        if len(shown) >= 128:
            break
        shown += b"'" + _c_string(arg)[: 128 - len(shown)] + b"' "
    text = (
        b"ERR unknown command '"
        + _c_string(args[0])[:128]
        + b"', with args beginning with: "
        + shown
    )
    return b"-" + text.replace(b"\r", b" ").replace(b"\n", b" ") + b"\r\n"


def _c_string(arg: bytes) -> bytes:
    """What C's ``%s`` prints of ``arg``: everything before the first NUL byte."""
    return arg.split(b"\0", 1)[0]


_TRANSACTION = {b"MULTI", b"EXEC", b"DISCARD"}


def execute(session: Session, args: list[bytes]) -> bytes:
    """Run one command for ``session`` and return its encoded reply; never raises.

    Inside MULTI, commands are checked and queued (``+QUEUED``) until EXEC runs them.
    """
    entry = COMMANDS.get(args[0].upper())
    if entry is None:
        session.transaction_failed = session.queued is not None
        return unknown_command_error(args)
    fn, arity, name = entry
    if (arity > 0 and len(args) != arity) or len(args) < -arity:
        session.transaction_failed = session.queued is not None
        return wrong_arity(name)
    if session.queued is not None and name.upper().encode() not in _TRANSACTION:
        session.queued.append(args)
        return b"+QUEUED\r\n"
    return fn(session, args)


def wrong_arity(name: str) -> bytes:
    return error(f"ERR wrong number of arguments for '{name}' command")


def unknown_subcommand(args: list[bytes]) -> bytes:
    sub = _c_string(args[1])[:128].decode("utf-8", "surrogateescape")
    return error(
        f"ERR unknown subcommand '{sub}'. Try {args[0].upper().decode(errors='replace')} HELP."
    )


# -- strings -------------------------------------------------------------------------------


@command("GET", 2)
def cmd_get(session: Session, args: list[bytes]) -> bytes:
    db = session.db
    value = db.get(args[1]) if db.expires else db.data.get(args[1])
    if value is None:
        return session.null
    if type(value) is not bytes:
        return WRONGTYPE
    return b"$%d\r\n%b\r\n" % (len(value), value)


@command("SET", -3)
def cmd_set(session: Session, args: list[bytes]) -> bytes:
    db = session.db
    if len(args) == 3:  # the common case, kept short
        if db.expires:
            db.expires.pop(args[1], None)
        db.data[args[1]] = args[2]
        return OK
    key, value = args[1], args[2]
    condition, want_old, keep_ttl, deadline = None, False, False, None
    i = 3
    while i < len(args):
        option = args[i].upper()
        if option in (b"NX", b"XX") and condition is None:
            condition = option
        elif option == b"GET" and not want_old:
            want_old = True
        elif option == b"KEEPTTL" and deadline is None and not keep_ttl:
            keep_ttl = True
        elif option in (b"EX", b"PX", b"EXAT", b"PXAT") and deadline is None and not keep_ttl:
            if i + 1 == len(args):
                return SYNTAX_ERROR
            amount = parse_integer(args[i + 1])
            if amount is None:
                return NOT_AN_INTEGER
            if amount <= 0:
                return error("ERR invalid expire time in 'set' command")
            now_ms = int(time.time() * 1000)
            deadline = {
                b"EX": now_ms + amount * 1000,
                b"PX": now_ms + amount,
                b"EXAT": amount * 1000,
            }.get(option, amount)
            i += 1
        else:
            return SYNTAX_ERROR
        i += 1
    old = db.get(key)
    if want_old and old is not None and type(old) is not bytes:
        return WRONGTYPE
    if (condition == b"NX" and old is not None) or (condition == b"XX" and old is None):
        return bulk(old) if want_old and old is not None else session.null
    db.data[key] = value
    if deadline is not None:
        db.expires[key] = deadline
    elif not keep_ttl:
        db.expires.pop(key, None)
    if want_old:
        return bulk(old) if old is not None else session.null
    return OK


@command("SETNX", 3)
def cmd_setnx(session: Session, args: list[bytes]) -> bytes:
    if session.db.get(args[1]) is not None:
        return b":0\r\n"
    session.db.data[args[1]] = args[2]
    return b":1\r\n"


@command("MSET", -3)
def cmd_mset(session: Session, args: list[bytes]) -> bytes:
    if len(args) % 2 == 0:
        return wrong_arity("mset")
    db = session.db
    for i in range(1, len(args), 2):
        if db.expires:
            db.expires.pop(args[i], None)
        db.data[args[i]] = args[i + 1]
    return OK


@command("MGET", -2)
def cmd_mget(session: Session, args: list[bytes]) -> bytes:
    replies = []
    for key in args[1:]:
        value = session.db.get(key)
        replies.append(bulk(value) if type(value) is bytes else session.null)
    return b"*%d\r\n" % len(replies) + b"".join(replies)


@command("GETDEL", 2)
def cmd_getdel(session: Session, args: list[bytes]) -> bytes:
    reply = cmd_get(session, args)
    if reply[:1] == b"$" and reply != NULL:
        session.db.delete(args[1])
    return reply


@command("APPEND", 3)
def cmd_append(session: Session, args: list[bytes]) -> bytes:
    old = session.db.get(args[1])
    if old is not None and type(old) is not bytes:
        return WRONGTYPE
    session.db.data[args[1]] = (old or b"") + args[2]
    return integer(len(session.db.data[args[1]]))


@command("STRLEN", 2)
def cmd_strlen(session: Session, args: list[bytes]) -> bytes:
    value = session.db.get(args[1])
    if value is not None and type(value) is not bytes:
        return WRONGTYPE
    return integer(len(value or b""))


def _add_to_integer(session: Session, key: bytes, amount: int) -> bytes:
    old = session.db.get(key)
    if old is None:
        current = 0
    elif type(old) is not bytes:
        return WRONGTYPE
    else:
        current = parse_integer(old)
        if current is None:
            return NOT_AN_INTEGER
    result = current + amount
    if not -(2**63) <= result < 2**63:
        return b"-ERR increment or decrement would overflow\r\n"
    session.db.data[key] = b"%d" % result
    return b":%d\r\n" % result


@command("INCR", 2)
def cmd_incr(session: Session, args: list[bytes]) -> bytes:
    return _add_to_integer(session, args[1], 1)


@command("DECR", 2)
def cmd_decr(session: Session, args: list[bytes]) -> bytes:
    return _add_to_integer(session, args[1], -1)


@command("INCRBY", 3)
def cmd_incrby(session: Session, args: list[bytes]) -> bytes:
    amount = parse_integer(args[2])
    return NOT_AN_INTEGER if amount is None else _add_to_integer(session, args[1], amount)


@command("DECRBY", 3)
def cmd_decrby(session: Session, args: list[bytes]) -> bytes:
    amount = parse_integer(args[2])
    if amount is None:
        return NOT_AN_INTEGER
    if amount == -(2**63):
        return error("ERR decrement would overflow")
    return _add_to_integer(session, args[1], -amount)


# -- keys ------------------------------------------------------------------------------------


@command("DEL", -2)
def cmd_del(session: Session, args: list[bytes]) -> bytes:
    return integer(sum(session.db.delete(key) for key in args[1:]))


command("UNLINK", -2)(cmd_del)


@command("EXISTS", -2)
def cmd_exists(session: Session, args: list[bytes]) -> bytes:
    return integer(sum(session.db.get(key) is not None for key in args[1:]))


@command("TYPE", 2)
def cmd_type(session: Session, args: list[bytes]) -> bytes:
    value = session.db.get(args[1])
    names = {bytes: "string", set: "set", dict: "hash"}
    name = (
        "none" if value is None else names.get(type(value), getattr(value, "REDIS_TYPE", "string"))
    )
    return simple(name)


@command("KEYS", 2)
def cmd_keys(session: Session, args: list[bytes]) -> bytes:
    for key in list(session.db.expires):
        session.db.expire_if_due(key)
    pattern = args[1]
    keys = [k for k in session.db.data if pattern == b"*" or fnmatch.fnmatchcase(k, pattern)]
    return array(keys)


@command("DBSIZE", 1)
def cmd_dbsize(session: Session, args: list[bytes]) -> bytes:
    return integer(len(session.db.data))


@command("FLUSHDB", -1)
def cmd_flushdb(session: Session, args: list[bytes]) -> bytes:
    session.db.data.clear()
    session.db.expires.clear()
    return OK


@command("FLUSHALL", -1)
def cmd_flushall(session: Session, args: list[bytes]) -> bytes:
    for db in session.databases:
        db.data.clear()
        db.expires.clear()
    return OK


@command("EXPIRE", -3)
def cmd_expire(session: Session, args: list[bytes]) -> bytes:
    seconds = parse_integer(args[2])
    if seconds is None:
        return NOT_AN_INTEGER
    if session.db.get(args[1]) is None:
        return b":0\r\n"
    if seconds <= 0:
        session.db.delete(args[1])
    else:
        session.db.expires[args[1]] = int(time.time() * 1000) + seconds * 1000
    return b":1\r\n"


@command("PERSIST", 2)
def cmd_persist(session: Session, args: list[bytes]) -> bytes:
    if session.db.get(args[1]) is None:
        return b":0\r\n"
    return integer(session.db.expires.pop(args[1], None) is not None)


def _time_to_live(session: Session, key: bytes, unit_ms: int) -> bytes:
    if session.db.get(key) is None:
        return b":-2\r\n"
    deadline = session.db.expires.get(key)
    if deadline is None:
        return b":-1\r\n"
    left = max(0, deadline - int(time.time() * 1000))
    return integer((left + unit_ms // 2) // unit_ms)


@command("TTL", 2)
def cmd_ttl(session: Session, args: list[bytes]) -> bytes:
    return _time_to_live(session, args[1], 1000)


@command("PTTL", 2)
def cmd_pttl(session: Session, args: list[bytes]) -> bytes:
    return _time_to_live(session, args[1], 1)


# Importing them registers the other commands: connection and server, then the data types.
from . import redis_connection, redis_types  # noqa: E402, F401
