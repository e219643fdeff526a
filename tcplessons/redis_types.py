"""Lists, sets, hashes and sorted sets for the course's Redis server.

Enough of each for ``redis-benchmark``'s default tests and for poking at the server from
redis-py: LPUSH/RPUSH/LPOP/RPOP/LRANGE, SADD/SPOP/SMEMBERS, HSET/HGET/HGETALL,
ZADD/ZPOPMIN/ZRANGE/ZSCORE, and a few neighbours.  Replies are Redis 7's, byte for byte.
Registered in :data:`tcplessons.redis_commands.COMMANDS` on import.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import deque
from itertools import islice

from .redis_commands import NOT_AN_INTEGER, SYNTAX_ERROR, WRONGTYPE, Session, command
from .resp import array, bulk, error, integer, parse_integer

__all__ = ["SortedSet"]

NOT_A_FLOAT = b"-ERR value is not a valid float\r\n"
_FLOAT = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf(?:inity)?", re.IGNORECASE)


class SortedSet:
    """Members with scores, kept in (score, member) order for ranges and pops."""

    REDIS_TYPE = "zset"
    __slots__ = ("scores", "order")

    def __init__(self) -> None:
        self.scores: dict[bytes, float] = {}
        self.order: list[tuple[float, bytes]] = []

    def add(self, member: bytes, score: float) -> bool:
        old = self.scores.get(member)
        if old is not None:
            self.order.pop(bisect.bisect_left(self.order, (old, member)))
        self.scores[member] = score
        bisect.insort(self.order, (score, member))
        return old is None

    def remove(self, member: bytes) -> bool:
        old = self.scores.pop(member, None)
        if old is None:
            return False
        self.order.pop(bisect.bisect_left(self.order, (old, member)))
        return True

    def __len__(self) -> int:
        return len(self.scores)


class RedisList(deque):
    REDIS_TYPE = "list"


def _score_text(score: float) -> bytes:
    """A score as Redis 7.0 writes it in RESP2 (C's ``%.17g``)."""
    if math.isinf(score):
        return b"inf" if score > 0 else b"-inf"
    return b"%.17g" % score


def _double(session: Session, score: float) -> bytes:
    if session.proto == 3:
        return b",%s\r\n" % _score_text(score)
    return bulk(_score_text(score))


def _parse_float(text: bytes) -> float | None:
    if not _FLOAT.fullmatch(text):
        return None
    return float(text)


def _count_argument(args: list[bytes], default: int | None) -> tuple[int | None, bytes]:
    """The optional count after the key of LPOP, RPOP, SPOP and ZPOPMIN (``default`` without
    one), and the error reply to send instead when it is not a number of 0 or more."""
    if len(args) < 3:
        return default, b""
    count = parse_integer(args[2])
    if count is None or count < 0:
        return None, error("ERR value is out of range, must be positive")
    return count, b""


def _typed(session: Session, key: bytes, kind: type):
    """(value or None, error reply or None) for a key that must hold a ``kind``."""
    value = session.db.get(key)
    if value is not None and type(value) is not kind:
        return None, WRONGTYPE
    return value, None


def _drop_if_empty(session: Session, key: bytes, value) -> None:
    if not value:
        session.db.delete(key)


# -- lists -----------------------------------------------------------------------------------


def _push(session: Session, args: list[bytes], left: bool) -> bytes:
    items, problem = _typed(session, args[1], RedisList)
    if problem:
        return problem
    if items is None:
        items = session.db.data[args[1]] = RedisList()
    (items.extendleft if left else items.extend)(args[2:])
    return integer(len(items))


@command("LPUSH", -3)
def cmd_lpush(session: Session, args: list[bytes]) -> bytes:
    return _push(session, args, left=True)


@command("RPUSH", -3)
def cmd_rpush(session: Session, args: list[bytes]) -> bytes:
    return _push(session, args, left=False)


def _pop(session: Session, args: list[bytes], left: bool) -> bytes:
    if len(args) > 3:
        return error(f"ERR wrong number of arguments for '{args[0].lower().decode()}' command")
    count, problem = _count_argument(args, default=None)
    if problem:
        return problem
    items, problem = _typed(session, args[1], RedisList)
    if problem:
        return problem
    if items is None:
        return session.null if count is None else (b"*-1\r\n" if session.proto == 2 else b"_\r\n")
    take = items.popleft if left else items.pop
    if count is None:
        reply = bulk(take())
    else:
        reply = array([take() for _ in range(min(count, len(items)))])
    _drop_if_empty(session, args[1], items)
    return reply


@command("LPOP", -2)
def cmd_lpop(session: Session, args: list[bytes]) -> bytes:
    return _pop(session, args, left=True)


@command("RPOP", -2)
def cmd_rpop(session: Session, args: list[bytes]) -> bytes:
    return _pop(session, args, left=False)


@command("LLEN", 2)
def cmd_llen(session: Session, args: list[bytes]) -> bytes:
    items, problem = _typed(session, args[1], RedisList)
    return problem or integer(len(items or ()))


def _index_range(args: list[bytes], size: int):
    start, stop = parse_integer(args[2]), parse_integer(args[3])
    if start is None or stop is None:
        return None
    if start < 0:
        start = max(0, size + start)
    if stop < 0:
        stop = size + stop
    return start, min(stop, size - 1)


@command("LRANGE", 4)
def cmd_lrange(session: Session, args: list[bytes]) -> bytes:
    items, problem = _typed(session, args[1], RedisList)
    if problem:
        return problem
    bounds = _index_range(args, len(items or ()))
    if bounds is None:
        return NOT_AN_INTEGER
    start, stop = bounds
    if items is None or start > stop:
        return b"*0\r\n"
    return array(islice(items, start, stop + 1))


@command("LINDEX", 3)
def cmd_lindex(session: Session, args: list[bytes]) -> bytes:
    items, problem = _typed(session, args[1], RedisList)
    index = parse_integer(args[2])
    if problem:
        return problem
    if index is None:
        return NOT_AN_INTEGER
    if items is None or not -len(items) <= index < len(items):
        return session.null
    return bulk(items[index])


# -- sets ------------------------------------------------------------------------------------


def _set_reply(session: Session, members) -> bytes:
    members = list(members)
    head = b"*%d\r\n" if session.proto == 2 else b"~%d\r\n"
    return head % len(members) + b"".join(bulk(m) for m in members)


@command("SADD", -3)
def cmd_sadd(session: Session, args: list[bytes]) -> bytes:
    members, problem = _typed(session, args[1], set)
    if problem:
        return problem
    if members is None:
        members = session.db.data[args[1]] = set()
    before = len(members)
    members.update(args[2:])
    return integer(len(members) - before)


@command("SREM", -3)
def cmd_srem(session: Session, args: list[bytes]) -> bytes:
    members, problem = _typed(session, args[1], set)
    if problem or members is None:
        return problem or b":0\r\n"
    before = len(members)
    members.difference_update(args[2:])
    removed = before - len(members)
    _drop_if_empty(session, args[1], members)
    return integer(removed)


@command("SMEMBERS", 2)
def cmd_smembers(session: Session, args: list[bytes]) -> bytes:
    members, problem = _typed(session, args[1], set)
    return problem or _set_reply(session, members or ())


@command("SISMEMBER", 3)
def cmd_sismember(session: Session, args: list[bytes]) -> bytes:
    members, problem = _typed(session, args[1], set)
    return problem or integer(bool(members) and args[2] in members)


@command("SCARD", 2)
def cmd_scard(session: Session, args: list[bytes]) -> bytes:
    members, problem = _typed(session, args[1], set)
    return problem or integer(len(members or ()))


@command("SPOP", -2)
def cmd_spop(session: Session, args: list[bytes]) -> bytes:
    if len(args) > 3:
        return SYNTAX_ERROR
    count, problem = _count_argument(args, default=None)
    if problem:
        return problem
    members, problem = _typed(session, args[1], set)
    if problem:
        return problem
    if members is None:
        return session.null if count is None else _set_reply(session, ())
    if count is None:
        reply = bulk(members.pop())
    else:
        reply = _set_reply(session, [members.pop() for _ in range(min(count, len(members)))])
    _drop_if_empty(session, args[1], members)
    return reply


# -- hashes ----------------------------------------------------------------------------------


@command("HSET", -4)
def cmd_hset(session: Session, args: list[bytes]) -> bytes:
    if len(args) % 2:
        return error(f"ERR wrong number of arguments for '{args[0].lower().decode()}' command")
    fields, problem = _typed(session, args[1], dict)
    if problem:
        return problem
    if fields is None:
        fields = session.db.data[args[1]] = {}
    before = len(fields)
    for i in range(2, len(args), 2):
        fields[args[i]] = args[i + 1]
    return integer(len(fields) - before) if args[0].upper() == b"HSET" else b"+OK\r\n"


command("HMSET", -4)(cmd_hset)


@command("HGET", 3)
def cmd_hget(session: Session, args: list[bytes]) -> bytes:
    fields, problem = _typed(session, args[1], dict)
    if problem:
        return problem
    value = (fields or {}).get(args[2])
    return session.null if value is None else bulk(value)


@command("HGETALL", 2)
def cmd_hgetall(session: Session, args: list[bytes]) -> bytes:
    fields, problem = _typed(session, args[1], dict)
    return problem or session.map([(bulk(k), bulk(v)) for k, v in (fields or {}).items()])


@command("HDEL", -3)
def cmd_hdel(session: Session, args: list[bytes]) -> bytes:
    fields, problem = _typed(session, args[1], dict)
    if problem or fields is None:
        return problem or b":0\r\n"
    removed = sum(fields.pop(name, None) is not None for name in args[2:])
    _drop_if_empty(session, args[1], fields)
    return integer(removed)


@command("HLEN", 2)
def cmd_hlen(session: Session, args: list[bytes]) -> bytes:
    fields, problem = _typed(session, args[1], dict)
    return problem or integer(len(fields or ()))


@command("HEXISTS", 3)
def cmd_hexists(session: Session, args: list[bytes]) -> bytes:
    fields, problem = _typed(session, args[1], dict)
    return problem or integer(args[2] in (fields or {}))


@command("HKEYS", 2)
def cmd_hkeys(session: Session, args: list[bytes]) -> bytes:
    fields, problem = _typed(session, args[1], dict)
    return problem or array(list(fields or {}))


@command("HVALS", 2)
def cmd_hvals(session: Session, args: list[bytes]) -> bytes:
    fields, problem = _typed(session, args[1], dict)
    return problem or array(list((fields or {}).values()))


# -- sorted sets -------------------------------------------------------------------------------


@command("ZADD", -4)
def cmd_zadd(session: Session, args: list[bytes]) -> bytes:
    if len(args) % 2:
        return SYNTAX_ERROR
    pairs = []
    for i in range(2, len(args), 2):
        score = _parse_float(args[i])
        if score is None:
            return NOT_A_FLOAT
        pairs.append((score, args[i + 1]))
    zset, problem = _typed(session, args[1], SortedSet)
    if problem:
        return problem
    if zset is None:
        zset = session.db.data[args[1]] = SortedSet()
    return integer(sum(zset.add(member, score) for score, member in pairs))


@command("ZSCORE", 3)
def cmd_zscore(session: Session, args: list[bytes]) -> bytes:
    zset, problem = _typed(session, args[1], SortedSet)
    if problem:
        return problem
    score = zset.scores.get(args[2]) if zset else None
    return session.null if score is None else _double(session, score)


@command("ZCARD", 2)
def cmd_zcard(session: Session, args: list[bytes]) -> bytes:
    zset, problem = _typed(session, args[1], SortedSet)
    return problem or integer(len(zset or ()))


@command("ZREM", -3)
def cmd_zrem(session: Session, args: list[bytes]) -> bytes:
    zset, problem = _typed(session, args[1], SortedSet)
    if problem or zset is None:
        return problem or b":0\r\n"
    removed = sum(zset.remove(member) for member in args[2:])
    _drop_if_empty(session, args[1], zset)
    return integer(removed)


def _scored(session: Session, pairs: list[tuple[float, bytes]], nested: bool) -> bytes:
    """Members with their scores: flat in RESP2, [member, score] pairs in RESP3."""
    if session.proto == 3 and nested:
        return b"*%d\r\n" % len(pairs) + b"".join(
            b"*2\r\n" + bulk(m) + _double(session, s) for s, m in pairs
        )
    return b"*%d\r\n" % (2 * len(pairs)) + b"".join(bulk(m) + _double(session, s) for s, m in pairs)


@command("ZPOPMIN", -2)
def cmd_zpopmin(session: Session, args: list[bytes]) -> bytes:
    if len(args) > 3:
        return SYNTAX_ERROR
    count, problem = _count_argument(args, default=1)
    if problem:
        return problem
    zset, problem = _typed(session, args[1], SortedSet)
    if problem:
        return problem
    if zset is None:
        return b"*0\r\n"
    popped = zset.order[:count]
    for _score, member in popped:
        zset.remove(member)
    _drop_if_empty(session, args[1], zset)
    return _scored(session, popped, nested=len(args) == 3)


@command("ZRANGE", -4)
def cmd_zrange(session: Session, args: list[bytes]) -> bytes:
    with_scores = False
    for option in args[4:]:
        if option.upper() != b"WITHSCORES":
            return SYNTAX_ERROR
        with_scores = True
    zset, problem = _typed(session, args[1], SortedSet)
    if problem:
        return problem
    bounds = _index_range(args, len(zset or ()))
    if bounds is None:
        return NOT_AN_INTEGER
    start, stop = bounds
    if zset is None or start > stop:
        return b"*0\r\n"
    chosen = zset.order[start : stop + 1]
    if with_scores:
        return _scored(session, chosen, nested=True)
    return array([m for _, m in chosen])
