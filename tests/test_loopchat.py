"""The chat room on the selectors core and on asyncio: the same protocol as lesson 06's."""

import socket

import pytest

from tcplessons import ChatBot, running_servers, stop_all
from tcplessons.loopchat import start_async_chat_server, start_loop_chat_server

SERVERS = {"selectors": start_loop_chat_server, "asyncio": start_async_chat_server}
WAIT = 10.0


@pytest.fixture(autouse=True)
def _stop_everything():
    yield
    stop_all()


@pytest.fixture(params=sorted(SERVERS))
def server(request):
    with SERVERS[request.param]() as server:
        yield server


def test_join_talk_leave(server):
    ada = ChatBot(server, "ada", timeout=WAIT)
    bob = ChatBot(server, "bob", timeout=WAIT)
    ada.wait_for("* bob joined")
    bob.say("hi ada")
    ada.wait_for("bob: hi ada")
    bob.leave()
    ada.wait_for("* bob left")
    assert ada.lines() == ["* welcome, ada!", "* bob joined", "bob: hi ada", "* bob left"]
    assert not any(line.startswith("bob: ") for line in bob.lines()[1:] if line != "bob: hi ada")
    ada.close()


def test_names_are_checked(server):
    ada = ChatBot(server, "ada", timeout=WAIT)
    with pytest.raises(ValueError, match="taken"):
        ChatBot(server, "ada", timeout=WAIT)
    with pytest.raises(ValueError, match="spaces"):
        ChatBot(server, "ada lovelace", timeout=WAIT)
    ada.close()


def test_split_lines_control_characters_and_bad_utf8(server):
    ada = ChatBot(server, "ada", timeout=WAIT)
    with socket.create_connection(server.address, timeout=WAIT) as raw:
        for piece in (b"b", b"ob\n", b"he", b"llo \x1b[2Jw\xc3", b"\xa9\xff\r\n"):
            raw.sendall(piece)
        ada.wait_for("bob: hello w\u00e9\ufffd")
    ada.wait_for("* bob left")
    ada.close()


def test_a_member_who_never_reads_is_dropped_and_the_others_keep_talking(server):
    server.room.max_queue = 64 * 1024
    ada = ChatBot(server, "ada", timeout=WAIT)
    sloth = ChatBot(server, "sloth", reads=False, receive_buffer=4096, timeout=WAIT)
    bob = ChatBot(server, "bob", timeout=WAIT)
    big = "z" * 20_000
    for count in range(1, 201):  # bounded: far more than sloth's buffers and outbox hold
        ada.say(big)
        bob.wait_for(f"ada: {big}", count=count)
        if bob.has("* sloth left"):
            break
    bob.wait_for("* sloth left")
    ada.say("still here")
    bob.wait_for("ada: still here")
    for member in (ada, bob, sloth):
        member.close()


def test_stop_leaves_nothing(server):
    ChatBot(server, "ada", timeout=WAIT)
    server.stop()
    assert server not in running_servers()
