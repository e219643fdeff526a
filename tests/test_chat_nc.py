"""Real `nc` (netcat-openbsd) members join the course's chat server with the very command
the notebook prints, chat, send bad input and hang up.  Every read is bounded."""

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chat_terminal import ChatTerminal  # noqa: E402

from tcplessons import start_bots, start_chat_server, stop_all

NC = shutil.which("nc")
pytestmark = pytest.mark.skipif(NC is None, reason="nc (Debian's netcat-openbsd) is not installed")

TIMEOUT = 5.0


@pytest.fixture(autouse=True)
def _stop_everything():
    yield
    stop_all()


def Nc(server, name=None, *extra):
    """Real `nc` joined to the chat, started with the very command the notebook prints."""
    command = server.nc_command().split()
    command[1:1] = list(extra)
    return ChatTerminal(command, name, timeout=TIMEOUT)


@pytest.fixture
def members():
    started = []
    yield started
    for member in started:
        member.close()


def test_nc_members_join_chat_and_hang_up(members):
    server = start_chat_server()
    alice = Nc(server, "alice")
    members.append(alice)
    bob = Nc(server, "bob")
    members.append(bob)
    assert alice.line() == b"* bob joined"
    (ada,) = start_bots(server, ["ada"])
    assert alice.line() == b"* ada joined" and bob.line() == b"* ada joined"
    bob.type("hello from nc, wörld\n".encode())
    assert alice.line() == "bob: hello from nc, wörld".encode()
    ada.wait_for("bob: hello from nc, wörld")
    ada.say("hi bob")
    assert alice.line() == b"ada: hi bob" and bob.line() == b"ada: hi bob"
    bob.hang_up()
    assert alice.line() == b"* bob left"
    ada.wait_for("* bob left")
    alice.hang_up()
    ada.wait_for("* alice left")
    ada.close()


def test_nc_with_crlf_line_endings_like_telnet(members):
    server = start_chat_server()
    alice = Nc(server, "alice")
    members.append(alice)
    carol = Nc(server, None, "-C")  # -C: nc sends \r\n, as telnet does
    members.append(carol)
    carol.type(b"carol\n")
    assert carol.line() == b"* welcome, carol!"
    assert alice.line() == b"* carol joined"
    carol.type(b"no stray carriage return\n")
    assert alice.line() == b"carol: no stray carriage return"


def test_control_characters_and_bad_utf8_from_nc_never_reach_the_others(members):
    server = start_chat_server()
    alice = Nc(server, "alice")
    members.append(alice)
    mallory = Nc(server)
    members.append(mallory)
    mallory.type(b"mal\x1b[5mlory\x07\n")
    assert mallory.line() == b"* welcome, mallory!"
    assert alice.line() == b"* mallory joined"
    mallory.type(b"\x1b[2J\x1b[31mred\x1b[0m\x00\x07 bytes: \xff\xc3(\n")
    line = alice.line()
    assert line == "mallory: red bytes: \ufffd\ufffd(".encode()
    assert not any(b < 0x20 or b == 0x7F for b in line)


def test_an_endless_line_from_nc_gets_an_error_and_a_hang_up(members):
    server = start_chat_server()
    alice = Nc(server, "alice")
    members.append(alice)
    flood = Nc(server, "flood")
    members.append(flood)
    assert alice.line() == b"* flood joined"
    flood.type(b"x" * (64 * 1024 + 1))
    assert flood.line() == b"! line too long (over 65536 bytes): goodbye"
    assert alice.line() == b"* flood left"
    server.log.wait_for("closed", line=2, timeout=TIMEOUT)  # the server hung up on flood
    # nc keeps running while its stdin is open; once that closes too, it exits.
    flood.proc.stdin.close()
    assert flood.proc.wait(TIMEOUT) is not None
    assert flood.line() is None
    alice.type(b"quiet again\n")
    (ada,) = start_bots(server, ["ada"])
    alice.type(b"hello ada\n")
    ada.wait_for("alice: hello ada")
    ada.close()
