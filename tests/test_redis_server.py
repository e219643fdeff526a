"""The course's Redis server under real clients (redis-cli, redis-py, redis-benchmark) and
bad input: Redis's replies, bounded memory, the other clients still served, nothing left
behind after stop()."""

import os
import socket
import threading
import time

import pytest
from redis_support import default_tests, needs, redis_benchmark, redis_cli, start_real_redis

from tcplessons import start_redis_server, stop_all

redis = pytest.importorskip("redis")

WAIT = 30.0  # generous: fires only on a real hang


def open_fds():
    return set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None


def server_threads():
    return [t for t in threading.enumerate() if t.name.startswith("tcplessons ")]


def wait_until(predicate, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.005)


def recv_until_eof(sock, limit=1 << 20):
    parts, total = [], 0
    while total < limit:
        part = sock.recv(65536)
        if not part:
            break
        parts.append(part)
        total += len(part)
    return b"".join(parts)


def exchange(address, data, *, hang_up=True):
    """Send data; return everything the server sends until it hangs up."""
    with socket.create_connection(address, timeout=WAIT) as sock:
        sock.sendall(data)
        if hang_up:
            sock.shutdown(socket.SHUT_WR)
        return recv_until_eof(sock)


@pytest.fixture
def server():
    fds, threads = open_fds(), len(server_threads())
    server = start_redis_server(name="test redis", log_data=False)
    yield server
    server.stop()
    assert not server.running
    assert len(server_threads()) == threads, "a server thread is left after stop()"
    if fds is not None:
        wait_until(lambda: open_fds() <= fds | {f for f in open_fds() if not f.isdigit()})
        assert open_fds() <= fds, "a file descriptor is left after stop()"


@pytest.fixture(autouse=True)
def _stop_everything():
    yield
    stop_all()


def still_served(server):
    client = redis.Redis(*server.address, socket_timeout=WAIT)
    try:
        assert client.ping() is True
    finally:
        client.close()


# -- redis-py --------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_commands_and_pipelines(server, protocol):
    r = redis.Redis(*server.address, protocol=protocol, socket_timeout=WAIT)
    try:
        assert r.ping() is True
        assert r.set("greeting", "hello") is True
        assert r.get("greeting") == b"hello"
        assert r.get("missing") is None
        assert r.incr("visits") == 1 and r.incr("visits") == 2
        value = bytes(range(256)) + "日本\r\n".encode()
        r.set(b"bin\x00key", value)
        assert r.get(b"bin\x00key") == value
        assert r.exists("greeting", "greeting", "missing") == 2
        assert r.delete("greeting", "missing") == 1
        assert r.rpush("list", "a", "b", "c") == 3 and r.lrange("list", 0, -1) == [b"a", b"b", b"c"]
        assert r.hset("hash", mapping={"f": "v"}) == 1 and r.hgetall("hash") == {b"f": b"v"}
        assert r.sadd("set", "x", "y") == 2 and r.smembers("set") == {b"x", b"y"}
        assert r.zadd("zset", {"m": 1.5}) == 1 and [
            tuple(p) for p in r.zrange("zset", 0, -1, withscores=True)
        ] == [(b"m", 1.5)]
        with pytest.raises(
            redis.ResponseError, match="wrong number of arguments for 'get' command"
        ):
            r.execute_command("GET")
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            r.get("list")
        for transaction in (True, False):
            pipe = r.pipeline(transaction=transaction)
            for _ in range(100):
                pipe.incr("counter")
            pipe.get("counter")
            results = pipe.execute()
            assert results[-2] - results[0] == 99 and results[-1] == b"%d" % results[-2]
    finally:
        r.close()


def test_many_redis_py_clients_at_once(server):
    errors = []

    def work(n):
        try:
            client = redis.Redis(*server.address, socket_timeout=WAIT)
            for i in range(50):
                client.set(f"k{n}:{i}", i)
                assert client.get(f"k{n}:{i}") == str(i).encode()
            client.close()
        except Exception as exc:  # reported in the test's thread below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert not errors and not any(t.is_alive() for t in threads)
    assert server.keys == 20 * 50


# -- redis-cli -------------------------------------------------------------------------------


@needs("redis-cli")
def test_redis_cli_one_shot(server):
    assert redis_cli(server.address, "PING").stdout == b"PONG\n"
    assert (
        redis_cli(server.address, "-x", "SET", "k", input=b"v\x00\xff").stdout == b"OK\n"
    )  # value from stdin
    assert redis_cli(server.address, "--no-raw", "GET", "k").stdout == b'"v\\x00\\xff"\n'
    assert redis_cli(server.address, "INCR", "n").stdout == b"1\n"
    assert redis_cli(server.address, "--no-raw", "GET", "nothing").stdout == b"(nil)\n"
    assert (
        redis_cli(server.address, "-n", "3", "SET", "in3", "x").stdout == b"OK\n"
    )  # sends SELECT 3
    assert redis_cli(server.address, "-n", "3", "GET", "in3").stdout == b"x\n"
    assert redis_cli(server.address, "GET", "in3").stdout == b"\n"
    assert redis_cli(server.address, "-3", "HGETALL", "nothing").returncode == 0  # sends HELLO 3
    assert b"unknown command 'FOO'" in redis_cli(server.address, "FOO", "bar").stdout


@needs("redis-cli")
def test_redis_cli_piped_session(server):
    session = (
        b"SET visits 10\nINCR visits\nINCR visits\nGET visits\n"
        b'SET bin "a\\x00b"\nSTRLEN bin\nECHO "x y"\n'
    )
    done = redis_cli(server.address, input=session)
    assert done.returncode == 0
    assert done.stdout == b"OK\n11\n12\n12\nOK\n3\nx y\n"


@needs("redis-cli", "redis-server")
def test_redis_cli_sees_the_same_bytes_from_both_servers(server):
    session = (
        b"SET a 1\nINCR a\nINCRBY a x\nGET nope\nRPUSH l x y z\nLRANGE l 0 -1\n"
        b"HSET h f v\nHGETALL h\nFOO bar\nGET\nDEL a l h\n"
    )
    with start_real_redis() as real:
        expected = redis_cli(real.address, "--no-raw", input=session).stdout
    assert redis_cli(server.address, "--no-raw", input=session).stdout == expected


# -- redis-benchmark ----------------------------------------------------------------------------


@needs("redis-benchmark")
def test_redis_benchmark_default_tests_all_complete(server):
    figures = redis_benchmark(server.address, "-n", "10000")
    assert list(figures) == default_tests()
    assert all(value > 0 for value in figures.values()), figures


@needs("redis-benchmark")
def test_redis_benchmark_pipelined(server):
    figures = redis_benchmark(server.address, "-n", "20000", "-P", "16", "-t", "set,get")
    assert set(figures) == {"SET", "GET"} and all(v > 0 for v in figures.values())


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, reply",
    [
        (
            b"\xff\xfegarbage\r\n",
            b"-ERR unknown command '\xff\xfegarbage', with args beginning with: \r\n",
        ),
        (b"*1\r\n$-2\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$99999999999\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$+4\r\nPING\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*x\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\n:4\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n"),
        (
            b"PING\r\n*1\r\n+PING\r\nPING\r\n",
            b"+PONG\r\n-ERR Protocol error: expected '$', got '+'\r\n",
        ),
        (b'ECHO "unbalanced\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    ],
)
def test_protocol_errors_get_redis_reply_then_hang_up(server, data, reply):
    assert exchange(server.address, data) == reply
    still_served(server)


@needs("redis-server")
@pytest.mark.parametrize(
    "data",
    [
        b"*-5\r\nPING\r\n",
        b"*0\r\n\r\n\r\nPING\r\n",
        b"*1\r\n$4\r\nPINGxx",
        b"\x00\xffgarbage\r\n",
        b"*1\r\n$-2\r\n",
        b"*2147483648\r\n",
        b"  ECHO   'a b'  \"c\\x41\"\r\n",
        b'ECHO "x"y\r\n',
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\nGET k\r\n",
    ],
)
def test_odd_bytes_get_what_redis_server_sends(server, data):
    with start_real_redis() as real:
        expected = exchange(real.address, data)
    assert exchange(server.address, data) == expected


def test_unterminated_array_then_hang_up(server):
    assert exchange(server.address, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n") == b""
    still_served(server)


def test_ten_mib_inline_line_is_refused_after_64_kib(server):
    with socket.create_connection(server.address, timeout=WAIT) as sock:
        sent = 0
        try:
            while sent < 10 * 1024 * 1024:
                sock.sendall(b"A" * 65536)
                sent += 65536
        except OSError:
            pass  # the server hung up on us, as Redis does
        reply = recv_until_eof(sock)
    assert reply == b"-ERR Protocol error: too big inline request\r\n"
    still_served(server)


def test_a_client_that_pipelines_100k_commands_and_never_reads(server):
    """Backpressure: its replies pile up only to the outbox limit; the others are served."""
    sock = socket.create_connection(server.address, timeout=WAIT)
    command = b"*2\r\n$4\r\nECHO\r\n$100\r\n" + b"x" * 100 + b"\r\n"
    writer_done = threading.Event()

    def flood():
        try:
            sock.sendall(command * 100_000)  # 12 MB of requests, 11 MB of replies
        except OSError:
            pass
        writer_done.set()

    writer = threading.Thread(target=flood, daemon=True)
    writer.start()

    def biggest_outbox():  # run in the loop's thread, where connections live
        return max((conn.outbox_size for conn in server.connections()), default=0)

    wait_until(lambda: server.call(biggest_outbox) > 0)
    still_served(server)
    # Replies pile up only to the outbox limit (plus the replies to one read on top).
    assert server.call(biggest_outbox) <= server.outbox_limit + 2 * 65536
    sock.close()
    writer_done.wait(WAIT)
    still_served(server)


def test_a_thousand_idle_connections(server):
    socks = []
    try:
        for _ in range(1000):
            socks.append(socket.create_connection(server.address, timeout=WAIT))
        still_served(server)
        wait_until(lambda: len(server.open_lines()) == 1000)
    finally:
        for sock in socks:
            sock.close()
    wait_until(lambda: not server.open_lines())
    still_served(server)


def test_a_reset_in_the_middle_of_a_command(server):
    sock = socket.create_connection(server.address, timeout=WAIT)
    sock.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nhalf")
    wait_until(lambda: len(server.open_lines()) == 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()  # linger 0: a reset, not a goodbye
    wait_until(lambda: not server.open_lines())
    still_served(server)
    assert not server.log.errors()


# -- the learner's parts plugged in ----------------------------------------------------------


def test_reference_solutions_plugged_in_serve_redis_py():
    from course import load_definition, solution_source

    reader, _ = load_definition(solution_source("RespReader"), "RespReader")
    handler, _ = load_definition(solution_source("handle_command"), "handle_command")
    with start_redis_server(
        name="test learner redis", reader=reader, handle_command=handler, log_data=False
    ) as server:
        r = redis.Redis(*server.address, protocol=2, socket_timeout=WAIT)
        # r.incr() sends INCRBY, which the exercise leaves out: send INCR itself
        assert (
            r.set("k", "v") is True and r.get("k") == b"v" and r.execute_command("INCR", "n") == 1
        )
        pipe = r.pipeline(transaction=False)
        for _ in range(50):
            pipe.execute_command("INCR", "n")
        assert pipe.execute()[-1] == 51
        r.close()
        assert (
            exchange(server.address, b"*1\r\n$-2\r\n", hang_up=False)
            == b"-ERR Protocol error: invalid bulk length\r\n"
        )
        assert server.keys == 2
