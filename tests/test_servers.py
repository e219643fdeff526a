"""The background servers: ready on return, loopback by default, stop fast and clean."""

import os
import socket
import statistics
import subprocess
import sys
import threading
import time

import pytest

from tcplessons import call, connect, running_servers, start_echo_server, start_server, stop_all


def open_fds():
    return set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None


def server_threads():
    return [t for t in threading.enumerate() if t.name.startswith("tcplessons ")]


@pytest.fixture(autouse=True)
def _stop_everything():
    yield
    stop_all()


def test_ready_when_it_returns_no_sleep():
    # Connect and talk the instant the call returns: the backlog already queues us.
    with start_echo_server() as server:
        assert call(server.address, b"ping") == b"ping"


def test_binds_loopback_and_a_free_port_by_default():
    with start_echo_server(name="a") as a, start_echo_server(name="b") as b:
        assert a.address[0] == "127.0.0.1" and b.address[0] == "127.0.0.1"
        assert a.address[1] != 0 and a.address[1] != b.address[1]
        assert a.listener.getsockname()[0] == "127.0.0.1"


def test_fixed_port_is_opt_in():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    with start_echo_server(port=port) as server:
        assert server.address == ("127.0.0.1", port)


def test_echo_many_sizes():
    with start_echo_server() as server:
        for size in (0, 1, 5, 4096, 1_000_000):
            data = os.urandom(size)
            assert call(server.address, data) == data


def test_stop_is_fast_and_leaves_nothing_behind():
    fds_before = open_fds()
    latencies = []
    for _ in range(200):
        server = start_echo_server()
        sock = connect(server.address)
        sock.sendall(b"x")
        assert sock.recv(1) == b"x"  # one line open and its handler blocked in recv()
        started = time.perf_counter()
        server.stop()
        latencies.append(time.perf_counter() - started)
        assert sock.recv(1) == b""  # the server hung up on us
        sock.close()
    assert server_threads() == []
    if fds_before is not None:
        assert open_fds() == fds_before
    assert statistics.median(latencies) < 0.05


def test_stop_waits_for_a_handler_that_is_still_closing_its_line(monkeypatch):
    # A handler that returns just before stop() has left the open lines, but its thread
    # is still closing the line: stop() must wait for that thread as well.
    from tcplessons.tracked import TrackedSocket

    closing = threading.Event()
    plain_close = TrackedSocket.close

    def slow_close(sock):
        if threading.current_thread().name.endswith(" line 1") and not closing.is_set():
            closing.set()
            time.sleep(0.2)  # a slow close(), as on a loaded machine: still closing in stop()
        plain_close(sock)

    monkeypatch.setattr(TrackedSocket, "close", slow_close)
    server = start_server(lambda conn: None, name="returns at once")
    caller = connect(server.address)
    assert closing.wait(5)
    server.stop()
    caller.close()
    assert server_threads() == []


def test_stop_closes_open_lines_and_is_idempotent():
    server = start_echo_server()
    calls = [connect(server.address) for _ in range(5)]
    for _i, sock in enumerate(calls, 1):
        sock.sendall(b"hi")
        assert sock.recv(2) == b"hi"
    server.stop()
    server.stop()
    assert not server.running
    for sock in calls:
        assert sock.recv(1) == b""
        sock.close()
    assert server.log.events("closed") and len(server.log.events("closed")) == 5
    assert server.log.events()[-1].kind == "stopped"


def test_a_name_already_running_is_replaced():
    first = start_echo_server()
    for _ in range(5):  # a cell re-run five times
        latest = start_echo_server()
    assert not first.running
    assert running_servers() == [latest]
    with socket.socket() as probe:
        with pytest.raises(ConnectionRefusedError):
            probe.connect(first.address)


def test_stop_all_and_context_manager():
    servers = [start_echo_server(name=f"s{i}") for i in range(3)]
    stop_all()
    assert all(not s.running for s in servers) and running_servers() == []
    with start_echo_server() as server:
        assert server.running
    assert not server.running


def test_handler_errors_are_captured_not_printed(capfd):
    def broken(conn):
        conn.recv(10)
        raise ValueError("handler went wrong")

    with start_server(broken) as server:
        with connect(server.address) as sock:
            sock.sendall(b"hello")
            assert sock.recv(1) == b""  # the server closed the line after the error
        event = server.log.wait_for("error", line=1)
    assert isinstance(event.error, ValueError)
    assert str(event) == "line 1: error ValueError: handler went wrong"
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_caller_resets_mid_message():
    def read_forever(conn):
        while conn.recv(65536):
            pass

    with start_server(read_forever) as server:
        sock = connect(server.address)
        sock.sendall(b"half a mess")
        server.log.wait_for("received", line=1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()  # RST instead of FIN: the caller vanished mid-message
        server.log.wait_for("closed", line=1)
        assert [type(e) for e in server.log.errors()] in ([ConnectionResetError], [])
        # The server keeps serving the others.
        with connect(server.address) as other:
            other.sendall(b"x")
            server.log.wait_for("received", line=2)


def test_event_log_tells_the_story_in_order():
    with start_echo_server() as server:
        with connect(server.address) as sock:
            sock.sendall(b"hello")
            assert sock.recv(5) == b"hello"
        server.log.wait_for("closed", line=1)
    assert server.log.lines() == [
        "server: listening",
        "line 1: connected",
        "line 1: received 5 bytes b'hello'",
        "line 1: sent 5 bytes b'hello'",
        "line 1: hung up",
        "line 1: closed",
        "server: stopped",
    ]


def test_one_at_a_time_leaves_callers_in_the_backlog():
    release = threading.Event()

    def slow(conn):
        conn.recv(1)
        release.wait(5)

    with start_server(slow, one_at_a_time=True) as server:
        first = connect(server.address)
        first.sendall(b"1")
        server.log.wait_for("received", line=1)
        others = [connect(server.address) for _ in range(3)]
        if server.waiting() is not None:  # Linux reports the accept queue
            deadline = time.monotonic() + 5
            while server.waiting() != 3 and time.monotonic() < deadline:
                threading.Event().wait(0.01)
            assert server.waiting() == 3
        assert server.open_lines() == [1]
        release.set()
        first.close()
        server.log.wait_for("connected", line=2)
        for sock in others:
            sock.close()


def test_hang_up_from_the_server_side():
    with start_echo_server() as server:
        with connect(server.address) as sock:
            sock.sendall(b"x")
            assert sock.recv(1) == b"x"
            assert server.hang_up(1) is True
            assert sock.recv(1) == b""
        server.log.wait_for("closed", line=1)
        assert server.hang_up(1) is False
    # The server hung up, not the caller: the log must not blame the caller.
    assert server.log.events("hung up") == []


def test_stop_from_a_handler_thread_does_not_deadlock():
    holder = {}

    def stopper(conn):
        holder["server"].stop()

    server = start_server(stopper)
    holder["server"] = server
    with connect(server.address) as sock:
        assert sock.recv(1) == b""
    server._stopped.wait(5)
    assert not server.running


def test_repr_has_no_port():
    with start_echo_server() as server:
        assert str(server.port) not in repr(server)
        assert repr(server) == "<Server 'echo' on 127.0.0.1 (running)>"


def test_servers_die_with_the_process():
    code = (
        "from tcplessons import start_echo_server\n"
        "s = start_echo_server()\n"
        "print(s.port, flush=True)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0 and result.stderr == ""
    with socket.socket() as probe:
        with pytest.raises(ConnectionRefusedError):
            probe.connect(("127.0.0.1", int(result.stdout)))
