"""The event-loop server core: one thread, one selector, the thread server's manners."""

import os
import socket
import statistics
import struct
import threading
import time

import pytest

from tcplessons import running_servers, stop_all
from tcplessons.eventloop import (
    EchoProtocol,
    LoopServer,
    Protocol,
    start_loop_echo_server,
    start_loop_server,
)

WAIT = 10.0  # generous: fires only on a real hang


def open_fds():
    return set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None


def server_threads():
    return [t for t in threading.enumerate() if t.name.startswith("tcplessons ")]


def connect(address):
    sock = socket.create_connection(address, timeout=WAIT)
    return sock


def recv_exactly(sock, n):
    parts, got = [], 0
    while got < n:
        part = sock.recv(min(65536, n - got))
        assert part, f"hung up after {got} of {n} bytes"
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def recv_until_eof(sock):
    parts = []
    while True:
        part = sock.recv(65536)
        if not part:
            return b"".join(parts)
        parts.append(part)


def wait_until(predicate, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.005)


@pytest.fixture(autouse=True)
def _stop_everything():
    yield
    stop_all()


def test_ready_on_return_loopback_port_zero():
    with start_loop_echo_server() as server:
        assert isinstance(server, LoopServer)
        assert server.address[0] == "127.0.0.1" and server.address[1] != 0
        with connect(server.address) as sock:
            sock.sendall(b"ping")
            assert recv_exactly(sock, 4) == b"ping"
        assert "LoopServer 'loop echo' on 127.0.0.1 (running)" in repr(server)


def test_echo_sizes_and_half_close_gets_the_rest():
    with start_loop_echo_server() as server:
        for size in (0, 1, 5, 4096, 3_000_000):
            data = os.urandom(size)
            with connect(server.address) as sock:
                # Send everything first, then half-close: the server must hold what the
                # kernel could not take (its outbox), keep reading, and send it all back.
                sender = threading.Thread(
                    target=lambda s=sock, d=data: (s.sendall(d), s.shutdown(socket.SHUT_WR))
                )
                sender.start()
                assert recv_until_eof(sock) == data
                sender.join(WAIT)
        server.log.wait_for("closed", count=5, timeout=WAIT)


def test_one_thread_serves_many_callers_at_once():
    with start_loop_echo_server() as server:
        socks = [connect(server.address) for _ in range(50)]
        for i, sock in enumerate(socks):
            sock.sendall(f"caller {i}\n".encode())
        for i, sock in enumerate(socks):
            expected = f"caller {i}\n".encode()
            assert recv_exactly(sock, len(expected)) == expected
        assert len([t for t in server_threads() if t.name.startswith("tcplessons loop echo")]) == 1
        for sock in socks:
            sock.close()
        server.log.wait_for("closed", count=50, timeout=WAIT)
        assert server.open_lines() == []


def test_log_tells_the_story_by_line():
    with start_loop_echo_server() as server:
        with connect(server.address) as sock:
            sock.sendall(b"hi")
            assert recv_exactly(sock, 2) == b"hi"
        server.log.wait_for("closed", line=1, timeout=WAIT)
    assert server.log.lines() == [
        "server: listening",
        "line 1: connected",
        "line 1: received 2 bytes b'hi'",
        "line 1: sent 2 bytes b'hi'",
        "line 1: hung up",
        "line 1: closed",
        "server: stopped",
    ]


def test_log_data_false_records_only_connection_events():
    with start_loop_echo_server(log_data=False) as server:
        with connect(server.address) as sock:
            sock.sendall(b"hi")
            assert recv_exactly(sock, 2) == b"hi"
        server.log.wait_for("closed", line=1, timeout=WAIT)
    kinds = [e.kind for e in server.log.events()]
    assert kinds == ["listening", "connected", "hung up", "closed", "stopped"]


def test_reset_is_a_hang_up_and_closes_only_that_caller():
    with start_loop_echo_server() as server:
        other = connect(server.address)
        rude = connect(server.address)
        rude.sendall(b"x")
        assert recv_exactly(rude, 1) == b"x"
        rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        rude.close()  # RST
        server.log.wait_for("closed", line=2, timeout=WAIT)
        other.sendall(b"still here")
        assert recv_exactly(other, 10) == b"still here"
        other.close()
        assert server.log.errors() == []


def test_protocol_exception_is_logged_and_closes_only_that_connection():
    class Fussy(Protocol):
        def data_received(self, data):
            if data.startswith(b"boom"):
                raise ValueError("no booms here")
            self.conn.write(data)

    with start_loop_server(Fussy) as server:
        good, bad = connect(server.address), connect(server.address)
        bad.sendall(b"boom")
        assert recv_until_eof(bad) == b""
        good.sendall(b"fine")
        assert recv_exactly(good, 4) == b"fine"
        errors = server.log.errors()
        assert [type(e) for e in errors] == [ValueError]
        assert server.log.events("error")[0].line == 2
        good.close()
        bad.close()


def test_idle_loop_sleeps_write_interest_only_with_an_outbox():
    with start_loop_echo_server() as server:
        socks = [connect(server.address) for _ in range(20)]
        for sock in socks:
            sock.sendall(b"x")
            assert recv_exactly(sock, 1) == b"x"
        wait_until(lambda: all(c._events == 1 for c in server._connections.values()))
        turns = server.turns
        threading.Event().wait(0.3)  # an observation window: nothing should happen in it
        assert server.turns == turns, "an idle loop kept waking up (write interest left on?)"
        for sock in socks:
            sock.close()


def test_backpressure_pauses_reading_a_caller_who_never_reads():
    limit = 64 * 1024
    with start_loop_echo_server(outbox_limit=limit) as server:
        hog = socket.socket()
        hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        hog.connect(server.address)
        hog.setblocking(False)
        sent = 0
        chunk = b"z" * 65536
        deadline = time.monotonic() + WAIT
        stalled_since = None
        # Send until the kernel stops taking bytes for a while: the server stopped reading.
        while time.monotonic() < deadline:
            try:
                sent += hog.send(chunk)
                stalled_since = None
            except BlockingIOError:
                stalled_since = stalled_since or time.monotonic()
                if time.monotonic() - stalled_since > 0.5:
                    break
                time.sleep(0.01)
        assert sent < 200 * 1024 * 1024, "the server kept reading from a caller who never reads"
        conn = server._connections[1]
        box = []
        server.call_soon(lambda: box.append((conn.outbox_size, conn.reading)))
        wait_until(lambda: box)
        outbox, reading = box[0]
        assert not reading
        assert outbox <= limit + server.read_size
        # Everyone else is still served.
        with connect(server.address) as other:
            other.sendall(b"next")
            assert recv_exactly(other, 4) == b"next"
        # Drain: reading resumes, and every byte comes back.
        hog.setblocking(True)
        hog.settimeout(WAIT)
        received = 0
        hog_rest = threading.Thread(target=hog.shutdown, args=(socket.SHUT_WR,))
        hog_rest.start()
        while received < sent:
            part = hog.recv(1 << 20)
            assert part
            received += len(part)
        hog_rest.join(WAIT)
        assert received == sent
        hog.close()


def test_eof_received_override_and_write_after_eof():
    class Totals(Protocol):
        def connection_made(self, conn):
            self.conn, self.total = conn, 0

        def data_received(self, data):
            self.total += len(data)

        def eof_received(self):
            self.conn.write(f"{self.total}\n".encode())
            self.conn.close()

    with start_loop_server(Totals) as server:
        with connect(server.address) as sock:
            sock.sendall(b"a" * 100_000)
            sock.shutdown(socket.SHUT_WR)
            assert recv_until_eof(sock) == b"100000\n"


def test_connection_lost_called_once_whatever_the_cause():
    lost = []

    class Tracker(Protocol):
        def connection_made(self, conn):
            self.conn = conn

        def connection_lost(self):
            lost.append(self.conn.line)

    server = start_loop_server(Tracker)
    a = connect(server.address)
    b = connect(server.address)
    server.log.wait_for("connected", count=2, timeout=WAIT)
    a.close()
    server.log.wait_for("closed", line=1, timeout=WAIT)
    server.stop()
    assert sorted(lost) == [1, 2]
    assert b.recv(1) == b""
    b.close()


def test_write_from_another_thread_is_refused_call_soon_works():
    conns = []

    class Keep(Protocol):
        def connection_made(self, conn):
            conns.append(conn)

    with start_loop_server(Keep) as server:
        with connect(server.address) as sock:
            wait_until(lambda: conns)
            with pytest.raises(RuntimeError, match="call_soon"):
                conns[0].write(b"nope")
            server.call_soon(conns[0].write, b"from a cell\n")
            assert recv_exactly(sock, 12) == b"from a cell\n"
            assert server.hang_up(1) is True
            assert recv_until_eof(sock) == b""
        assert server.hang_up(1) is False


def test_stop_is_fast_and_leaves_nothing_behind():
    fds_before = open_fds()
    latencies = []
    for _ in range(100):
        server = start_loop_echo_server()
        sock = connect(server.address)
        sock.sendall(b"x")
        assert recv_exactly(sock, 1) == b"x"
        started = time.perf_counter()
        server.stop()
        latencies.append(time.perf_counter() - started)
        assert sock.recv(1) == b""
        sock.close()
        assert not server.running
    assert server_threads() == []
    if fds_before is not None:
        assert open_fds() == fds_before
    assert statistics.median(latencies) < 0.05  # milliseconds, with a wide margin


def test_stop_is_idempotent_and_callable_from_the_loop():
    class Quitter(Protocol):
        def data_received(self, data):
            self.conn.server.stop()

    server = start_loop_server(Quitter)
    with connect(server.address) as sock:
        sock.sendall(b"stop")
        assert recv_until_eof(sock) == b""
    server._stopped.wait(WAIT)
    assert not server.running
    server.stop()
    server.stop()
    assert server_threads() == []


def test_registry_name_replacement_and_stop_all():
    first = start_loop_echo_server(name="same")
    second = start_loop_echo_server(name="same")
    assert not first.running and second.running
    assert second in running_servers() and first not in running_servers()
    start_loop_server(EchoProtocol)  # named after the factory
    assert sorted(s.name for s in running_servers()) == ["EchoProtocol", "same"]
    stop_all()
    assert running_servers() == []
    assert server_threads() == []


def test_a_caller_that_hangs_up_with_unsent_outbox_costs_nothing():
    class Flood(Protocol):
        def connection_made(self, conn):
            conn.write(b"f" * 5_000_000)  # far more than the kernel buffers take

    with start_loop_server(Flood) as server:
        sock = connect(server.address)
        assert sock.recv(1000)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        server.log.wait_for("closed", line=1, timeout=WAIT)
        with connect(server.address) as other:
            assert recv_exactly(other, 1000) == b"f" * 1000


def test_call_runs_in_the_loop_and_returns_or_raises():
    with start_loop_echo_server() as server:
        with connect(server.address) as sock:
            sock.sendall(b"x")
            assert recv_exactly(sock, 1) == b"x"
            assert server.call(
                lambda: [(c.line, c.outbox_size, c.reading) for c in server.connections()]
            ) == [(1, 0, True)]
            with pytest.raises(ZeroDivisionError):
                server.call(lambda: 1 / 0)
            assert server.thread.name == "tcplessons loop echo loop"
