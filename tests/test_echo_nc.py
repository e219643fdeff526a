"""A real terminal client, Debian's ``nc`` (netcat-openbsd), gets its bytes back from the
course's echo server — what lesson 03 tells learners to try in a terminal."""

import shutil
import subprocess

import pytest

from tcplessons import start_echo_server

NC = shutil.which("nc")
pytestmark = pytest.mark.skipif(NC is None, reason="nc (Debian's netcat-openbsd) is not installed")


def run_nc(server, data: bytes) -> subprocess.CompletedProcess:
    host, port = server.address
    # -N: shut down our write side when the input ends, so the server sees b"" and
    # hangs up, and nc exits on its own (the timeout only bounds a broken run).
    return subprocess.run([NC, "-N", host, str(port)], input=data, capture_output=True, timeout=10)


def test_nc_gets_its_lines_back():
    with start_echo_server("nc echo test") as server:
        text = "hello from nc\nGrüße, 日本\n".encode()
        done = run_nc(server, text)
        assert done.returncode == 0, done.stderr
        assert done.stdout == text
        server.log.wait_for("closed", line=1, timeout=5)
        received = b"".join(e.data for e in server.log.events("received", line=1))
        assert received == text


def test_nc_gets_binary_and_large_data_back():
    with start_echo_server("nc echo test") as server:
        data = bytes(range(256)) * 2048  # 512 KiB, every byte value
        done = run_nc(server, data)
        assert done.returncode == 0, done.stderr
        assert done.stdout == data
        server.log.wait_for("closed", line=1, timeout=5)
        assert sum(e.nbytes for e in server.log.events("received", line=1)) == len(data)


def test_printed_command_reaches_the_server():
    # The printed command, run as printed: with Debian's nc it must say -N, or end of
    # input (Ctrl+D) would not reach the server and nc would never exit.
    with start_echo_server("nc echo test") as server:
        command = server.nc_command().split()
        assert command == ["nc", "-N", "127.0.0.1", str(server.port)]
        done = subprocess.run(command, input=b"ping\n", capture_output=True, timeout=10)
        assert done.returncode == 0, done.stderr
        assert done.stdout == b"ping\n"
