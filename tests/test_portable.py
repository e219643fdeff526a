"""The course without Linux-only socket behaviours (TCPLESSONS_PORTABLE, tcplessons.portable).

Each test here switches the behaviours off in this process, then proves that servers,
the chat room and the board still stop, hang up and count as promised.  The notebooks
run under nbval with the switch on, in a separate process, at the end.
"""

import os
import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tcplessons import (
    ChatBot,
    Switchboard,
    connect,
    portable,
    start_chat_server,
    start_echo_server,
    start_server,
    stop_all,
    wait_for_bytes,
)

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 5.0


@pytest.fixture(params=["large", "small"])
def weakest(request):
    before = portable.active()
    portable.install(request.param)
    yield request.param
    stop_all()
    portable.uninstall()
    if before:
        portable.install(before)


def test_the_switch_reads_the_environment(monkeypatch):
    for value, mode in [
        ("1", "large"),
        ("large", "large"),
        ("small", "small"),
        ("0", None),
        ("", None),
    ]:
        monkeypatch.setenv("TCPLESSONS_PORTABLE", value)
        assert portable.mode_from_environment() == mode


def test_shutdown_wakes_no_other_thread(weakest):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        caller = socket.create_connection(listener.getsockname(), timeout=TIMEOUT)
        line, _ = listener.accept()
        woke = threading.Event()

        def reader():
            line.recv(1)
            woke.set()

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        line.shutdown(socket.SHUT_RDWR)
        assert caller.recv(1) == b""  # the end of the stream still reaches the caller
        assert not woke.wait(0.3)  # ...but the reader in the other thread sleeps on
        caller.close()  # the caller hanging up is what wakes it
        assert woke.wait(TIMEOUT)
        thread.join(TIMEOUT)
        line.close()


def test_the_other_linux_only_behaviours_are_gone(weakest):
    with socket.socket() as unbound:
        with pytest.raises(OSError):
            unbound.getsockname()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        with pytest.raises(OSError):
            listener.shutdown(socket.SHUT_RDWR)
    with start_echo_server() as server:
        assert server.waiting() is None
    with socket.socket() as sock:
        before = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        after = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        assert after == before if weakest == "large" else after < 1 << 20


def test_no_sleeping_with_select_and_wait_for_bytes_still_waits(weakest):
    with pytest.raises(OSError):
        select.select([], [], [], 0.01)  # invalid on Windows
    with socket.create_server(("127.0.0.1", 0)) as listener:
        with socket.create_connection(listener.getsockname(), timeout=TIMEOUT) as caller:
            line, _ = listener.accept()
            with line:
                for piece in (b"one", b"two", b"three"):
                    caller.sendall(piece)
                assert wait_for_bytes(line, 11, timeout=TIMEOUT) == 11
                assert line.recv(1024) == b"onetwothree"


def test_stop_wakes_handlers_blocked_in_recv_and_sendall(weakest):
    in_sendall = threading.Event()

    def flood(conn):
        in_sendall.set()
        conn.sendall(bytes(64 << 20))  # the caller never reads: blocks for good

    with start_echo_server() as echo, start_server(flood) as flooder:
        readers = [connect(echo.address) for _ in range(3)]
        for sock in readers:
            sock.sendall(b"x")
            assert sock.recv(1) == b"x"  # each handler is now blocked in recv()
        stuck = connect(flooder.address)
        assert in_sendall.wait(TIMEOUT)
        started = time.monotonic()
        echo.stop()
        flooder.stop()
        assert time.monotonic() - started < 1.0  # STOP_TIMEOUT is 2 s per line
        assert not [t for t in threading.enumerate() if t.name.startswith("tcplessons ")]
        assert all(sock.recv(1) == b"" for sock in readers)
        for sock in (*readers, stuck):
            sock.close()
        assert not [e for e in echo.log.events() if e.kind == "error"]


def test_hang_up_wakes_the_handler_and_the_caller(weakest):
    with start_echo_server() as server:
        board = Switchboard(server)
        kept = board.ring()
        server.log.wait_for("connected", line=1, timeout=TIMEOUT)
        assert board.hang_up(1)
        server.log.wait_for("closed", line=1, timeout=TIMEOUT)
        kept.settimeout(TIMEOUT)
        assert kept.recv(1) == b""
        assert "line 1: closed" in board.text()
        board.close()


def test_the_board_counts_its_own_waiting_callers(weakest):
    with start_echo_server("busy", one_at_a_time=True) as busy:
        board = Switchboard(busy)
        for _ in range(3):
            board.ring()
        busy.log.wait_for("connected", line=1, timeout=TIMEOUT)
        board.refresh()
        assert board.text().splitlines()[0].endswith("listening, 2 callers waiting")
        board.hang_up(1)
        busy.log.wait_for("connected", line=2, timeout=TIMEOUT)
        board.refresh()
        assert board.text().splitlines()[0].endswith("listening, 1 caller waiting")
        board.close()


def test_the_chat_room_drops_and_members_vanish_without_shutdown_waking(weakest):
    server = start_chat_server()
    ada, bob = ChatBot(server, "ada"), ChatBot(server, "bob")
    ada.wait_for("* bob joined")
    started = time.monotonic()
    bob.vanish()  # its own reader thread must wake without shutdown()
    ada.wait_for("* bob left")
    ada.close()
    server.stop()
    assert time.monotonic() - started < 2.0
    assert not [t for t in threading.enumerate() if t.name.startswith("tcplessons ")]


def test_the_nc_fallback_needs_no_linux_behaviour(weakest, tmp_path):
    # the fallback runs in its own process: the switch is passed on in the environment
    with start_echo_server() as server:
        host, port = server.address
        env = dict(os.environ, TCPLESSONS_PORTABLE=weakest)
        done = subprocess.run(
            [sys.executable, "-m", "tcplessons", "nc", host, str(port)],
            input=b"one\ntwo\n",
            capture_output=True,
            timeout=30,
            env=env,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == b"one\ntwo\n"


LESSONS = sorted(p.name for p in (ROOT / "notebooks").glob("0[1-6]-*.ipynb"))


@pytest.mark.parametrize("notebook", LESSONS)
def test_lesson_outputs_are_the_same_without_linux_only_behaviours(notebook):
    # The stored outputs were made on Linux; with the switch on they must not change.
    env = dict(os.environ, TCPLESSONS_PORTABLE="1")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"notebooks/{notebook}"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_a_handlers_own_timeout_and_makefile_still_work(weakest):
    outcome = []

    def patient(conn):
        with conn.makefile("rb") as lines:  # reads with recv_into()
            outcome.append(lines.readline())
        conn.settimeout(0.2)  # nobody sends any more: this recv() must time out
        try:
            conn.recv(1)
        except TimeoutError:
            outcome.append("timed out")

    with start_server(patient) as server, connect(server.address) as sock:
        sock.sendall(b"one line\n")
        server.log.wait_for("closed", line=1, timeout=TIMEOUT)
    assert outcome == [b"one line\n", "timed out"]


def test_a_stoppable_listener_wakes_a_blocked_accept(weakest):
    from tcplessons.tracked import StoppableListener

    listener = StoppableListener.create()
    caller = socket.create_connection(listener.getsockname(), timeout=TIMEOUT)
    conn, _ = listener.accept()  # a caller waiting: accept() as usual
    outcome = []

    def accept_loop():
        try:
            listener.accept()
        except OSError as exc:
            outcome.append(type(exc).__name__)

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    started = time.monotonic()
    listener.stop()
    thread.join(TIMEOUT)
    assert outcome == ["OSError"] and time.monotonic() - started < 1.0
    conn.close()
    caller.close()
