"""The course's RESP reader and commands: the same bytes as redis-server 7 for the same
input, however the input is split; and the lesson's checks accept every fair way of
writing RespReader."""

import random
import socket
from pathlib import Path

import pytest
from course import load_definition
from redis_support import needs, start_real_redis

from tcplessons.exercises import get_exercise
from tcplessons.redis_commands import Session, execute
from tcplessons.resp import RespReader, parse_integer, protocol_error_reply, split_inline

ACCEPTED = sorted((Path(__file__).parent / "accepted" / "RespReader").glob("*.py"))


@pytest.mark.parametrize("path", ACCEPTED, ids=[p.stem for p in ACCEPTED])
def test_every_fair_reader_style_passes(path):
    reader, _ = load_definition(path.read_text(), "RespReader", str(path))
    report = get_exercise("RespReader").run(reader)
    assert report.passed, str(report)


def test_the_course_reader_passes_the_lesson_checks():
    assert get_exercise("RespReader").run(RespReader).passed


def test_the_course_commands_pass_the_handle_command_checks():
    def handle_command(store, args):
        """The course's commands on the plain dict the checks give: load it, run, write back."""
        session = Session()
        for key, value in store.items():
            execute(session, [b"SET", key, value])
        reply = execute(session, args)
        for key in set(store) | set(args[1:]):
            found = execute(session, [b"GET", key])
            if found.startswith(b"$-1"):
                store.pop(key, None)
            elif found.startswith(b"$"):
                store[key] = found[found.index(b"\r\n") + 2 : -2]
        return reply

    report = get_exercise("handle_command").run(handle_command)
    assert report.passed, str(report)


def test_integers_follow_string2ll():
    assert parse_integer(b"0") == 0 and parse_integer(b"-9223372036854775808") == -(2**63)
    for bad in (
        b"",
        b"-",
        b"-0",
        b"+1",
        b"01",
        b" 1",
        b"1 ",
        b"1_0",
        b"9223372036854775808",
        b"\xd9\xa3",
    ):
        assert parse_integer(bad) is None, bad


def test_inline_words_split_as_sdssplitargs():
    assert split_inline(b'SET "a b" \'c\\\'d\' "\\x41\\n"') == [b"SET", b"a b", b"c'd", b"A\n"]
    assert split_inline(b"a\x0bb \t c") == [b"a\x0bb", b"c"]
    with pytest.raises(ValueError, match="unbalanced quotes"):
        split_inline(b'"abc"def')


def course_bytes(data: bytes, pieces: int = 1, seed: int = 0) -> bytes:
    """What the course's server sends back for data, fed in random pieces."""
    rng = random.Random(seed)
    cuts = (
        sorted(rng.sample(range(1, len(data)), min(pieces - 1, len(data) - 1)))
        if pieces > 1
        else []
    )
    session, reader, out = Session(), RespReader(), b""
    for start, end in zip([0] + cuts, cuts + [len(data)], strict=True):
        commands, problem = reader.read(data[start:end])
        out += b"".join(execute(session, args) for args in commands)
        if problem is not None:
            return out + protocol_error_reply(problem)
    return out


def real_bytes(address, data: bytes) -> bytes:
    with socket.create_connection(address, timeout=30) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        parts = []
        while True:
            part = sock.recv(65536)
            if not part:
                return b"".join(parts)
            parts.append(part)


def encode(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%b\r\n" % (len(a), a) for a in args)


SESSION = b"".join(
    [
        encode(b"PING"),
        encode(b"PING", b"hi"),
        encode(b"ECHO"),
        encode(b"SET", b"k", b"v\r\nw"),
        encode(b"GET", b"k"),
        encode(b"GET", b"nothing"),
        encode(b"SET", b"k", b"v", b"NX", b"GET"),
        encode(b"SET", b"k", b"v", b"bogus"),
        encode(b"INCR", b"n"),
        encode(b"INCR", b"k"),
        encode(b"SET", b"m", b"9223372036854775807"),
        encode(b"INCR", b"m"),
        encode(b"DEL", b"k", b"k", b"zz"),
        encode(b"EXISTS", b"n", b"n"),
        encode(b"FOO", b"a\r\nb", b"x" * 200),
        encode(b"x" * 300),
        encode(b"LPUSH", b"l", b"1", b"2"),
        encode(b"LRANGE", b"l", b"0", b"-1"),
        encode(b"GET", b"l"),
        encode(b"LPOP", b"l", b"5"),
        encode(b"SADD", b"s", b"a"),
        encode(b"SPOP", b"s"),
        encode(b"HSET", b"h", b"f", b"v"),
        encode(b"HGETALL", b"h"),
        encode(b"ZADD", b"z", b"1.1", b"a"),
        encode(b"ZSCORE", b"z", b"a"),
        encode(b"ZPOPMIN", b"z"),
        encode(b"CONFIG", b"GET", b"save"),
        encode(b"CONFIG", b"GET", b"appendonly"),
        encode(b"SELECT", b"20"),
        encode(b"MSET", b"a", b"1", b"b", b"2"),
        encode(b"MGET", b"a", b"zz", b"b"),
        encode(b"MULTI"),
        encode(b"INCR", b"a"),
        encode(b"EXEC"),
        encode(b"CLIENT", b"SETINFO", b"LIB-NAME", b"x"),
        encode(b"HELLO", b"4"),
        b"*0\r\n*-1\r\n\r\nPING\r\n  ECHO  'a b' \"\\x41\"\n",
    ]
)


@needs("redis-server")
@pytest.mark.parametrize("pieces", [1, 7, 200, len(SESSION)])
def test_same_bytes_as_redis_server_however_split(pieces):
    with start_real_redis() as real:
        expected = real_bytes(real.address, SESSION)
    assert course_bytes(SESSION, pieces) == expected


@needs("redis-server")
@pytest.mark.parametrize(
    "tail",
    [
        b"*1\r\n$-1\r\n",
        b"*1\r\n$536870913\r\n",
        b"*+1\r\n",
        b"*1\r\n$04\r\nPING\r\n",
        b"*1\r\n\xff4\r\n",
        b'ECHO "a\r\n',
    ],
)
def test_protocol_errors_as_redis_server(tail):
    data = encode(b"SET", b"k", b"v") + tail + encode(b"GET", b"k")
    with start_real_redis() as real:
        expected = real_bytes(real.address, data)
    for pieces in (1, 5, len(data)):
        assert course_bytes(data, pieces) == expected
