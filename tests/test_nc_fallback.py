"""``python -m tcplessons nc HOST PORT``, the course's own nc for systems without one,
run as a real process against the echo and chat servers.  Every wait is bounded."""

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chat_terminal import ChatTerminal  # noqa: E402

from tcplessons import start_bots, start_chat_server, start_echo_server, start_server, stop_all
from tcplessons.nc import FALLBACK, nc_command

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 10.0
COMMAND = [sys.executable, "-m", "tcplessons", "nc"]


@pytest.fixture(autouse=True)
def _stop_everything():
    yield
    stop_all()


def run_nc(address, data: bytes) -> subprocess.CompletedProcess:
    host, port = address
    return subprocess.run(
        [*COMMAND, host, str(port)], input=data, capture_output=True, timeout=30, cwd=ROOT
    )


def test_lines_go_out_and_come_back_and_end_of_input_half_closes():
    with start_echo_server() as server:
        text = "hello from the fallback\nGrüße, 日本\n".encode()
        done = run_nc(server.address, text)
        assert done.returncode == 0, done.stderr
        assert done.stdout == text
        server.log.wait_for("hung up", line=1, timeout=TIMEOUT)  # our shutdown(SHUT_WR)


def test_binary_and_large_data_come_back_whole():
    with start_echo_server() as server:
        data = bytes(range(256)) * 4096  # 1 MiB, every byte value
        done = run_nc(server.address, data)
        assert done.returncode == 0, done.stderr
        assert done.stdout == data


def test_the_server_can_answer_after_end_of_input():
    # A server that answers only once it has read everything (b""): only a half-close
    # lets the answer come back on the same line.
    def count_then_answer(conn):
        total = 0
        while data := conn.recv(65536):
            total += len(data)
        conn.sendall(f"you sent {total} bytes\n".encode())

    with start_server(count_then_answer) as server:
        done = run_nc(server.address, b"x" * 1000)
        assert done.returncode == 0, done.stderr
        assert done.stdout == b"you sent 1000 bytes\n"


def test_nobody_listening_is_a_clear_error():
    with start_echo_server() as server:
        address = server.address
    done = run_nc(address, b"")
    assert done.returncode == 1
    assert b"cannot connect" in done.stderr


def test_printed_fallback_command_is_what_this_module_runs():
    assert FALLBACK == "python -m tcplessons nc"
    assert nc_command("127.0.0.1", 5).endswith(" 127.0.0.1 5")


def Member(server, name):
    """The fallback joined to the chat: type into its stdin, read lines from its stdout."""
    host, port = server.address
    return ChatTerminal([*COMMAND, host, str(port)], name, timeout=TIMEOUT, cwd=ROOT)


def test_the_fallback_chats_and_ctrl_d_leaves_the_room():
    server = start_chat_server()
    (ada,) = start_bots(server, ["ada"])
    you = Member(server, "you")
    ada.wait_for("* you joined")
    ada.say("hello, terminal")
    assert you.line() == b"ada: hello, terminal"
    you.type("hi ada, 🙂\n".encode())
    ada.wait_for("you: hi ada, 🙂")
    you.proc.stdin.close()  # Ctrl+D: end of input
    ada.wait_for("* you left")
    assert you.proc.wait(TIMEOUT) == 0  # the server hung up, so the fallback exits


def test_the_fallback_exits_when_the_server_stops():
    server = start_chat_server()
    you = Member(server, "you")
    server.stop()
    assert you.proc.wait(TIMEOUT) == 0
    you.proc.stdin.close()
