"""The course's chat server under good and bad input, with real sockets on 127.0.0.1:
its protocol, bad names, control characters, broken UTF-8, endless lines, resets,
a crowd, a member who never reads; and nothing left behind after stop()."""

import os
import selectors
import socket
import struct
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from tcplessons import (
    ChatBot,
    ChatClient,
    ChatWindow,
    Room,
    clean_text,
    portable,
    start_bots,
    start_chat_server,
    stop_all,
)
from tcplessons.framing import LineSplitter, LineTooLong

TIMEOUT = 5.0


def open_fds():
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None


def our_threads():
    return {t for t in threading.enumerate() if t.name.startswith("tcplessons")}


@pytest.fixture(autouse=True)
def _stop_everything():
    yield
    stop_all()


class Raw:
    """A plain socket client that reads whole lines, every read bounded."""

    def __init__(self, address, name=None, timeout=TIMEOUT):
        self.sock = socket.create_connection(address, timeout=timeout)
        self.buffer = LineSplitter(max_line=None, max_bytes=1 << 20)
        self.pending = []
        assert self.line() == "* welcome: type your name and press Enter"
        if name is not None:
            self.send(name.encode() + b"\n")
            assert self.line() == f"* welcome, {name}!"

    def send(self, data: bytes):
        self.sock.sendall(data)

    def line(self):
        """The next line, or None if the server hung up."""
        deadline = time.monotonic() + TIMEOUT
        while not self.pending:
            assert time.monotonic() < deadline, "no line arrived in time"
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            self.pending += [clean_text(x) for x in self.buffer.feed(data)]
            if not data and not self.pending:
                return None
        return self.pending.pop(0)

    def until(self, wanted):
        seen = []
        for _ in range(10_000):  # bounded
            line = self.line()
            seen.append(line)
            if line == wanted or line is None:
                return seen
        raise AssertionError(f"{wanted!r} never arrived")

    def close(self):
        self.sock.close()

    def reset(self):
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


# -- the sans-IO pieces -------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 5, 4096])
def test_the_chat_splits_lines_with_the_one_line_splitter_any_chunk_size(size):
    # The chat server reads its callers with framing.LineSplitter (lesson 04's splitter).
    data = "ada\r\nhello wörld\n\nlast".encode()
    buffer, lines = LineSplitter(max_line=None, max_bytes=64), []
    for start in range(0, len(data), size):
        lines += buffer.feed(data[start : start + size])
    lines += buffer.feed(b"")
    assert lines == ["ada", "hello wörld", "", "last"]


@pytest.mark.parametrize("size", [1, 3, 4096])
def test_line_splitter_byte_limit_in_any_chunk_size(size):
    def feed_all(data):
        buffer, lines = LineSplitter(max_line=None, max_bytes=10), []
        for start in range(0, len(data), size):
            lines += buffer.feed(data[start : start + size])
        return lines

    assert feed_all(b"0123456789\r\n" + "ééééé".encode() + b"\n") == ["0123456789", "ééééé"]
    for too_long in (
        b"0123456789a",
        b"0123456789ab\nok\n",
        "éééééé\n".encode(),
        b"0123456789\r\r\n",
    ):
        with pytest.raises(LineTooLong):
            feed_all(too_long)


def test_line_buffer_is_bounded():
    buffer = LineSplitter(max_line=None, max_bytes=10)
    assert buffer.feed(b"0123456789") == []
    with pytest.raises(LineTooLong):
        buffer.feed(b"x")
    with pytest.raises(LineTooLong):
        LineSplitter(max_line=None, max_bytes=10).feed(b"0123456789ab\nok\n")


def test_clean_text_removes_control_characters_and_replaces_bad_utf8():
    assert clean_text(b"\x1b[2J\x1b[31mred\x1b[0m\x07\x00!") == "red!"
    assert clean_text(b"\x1b]0;title\x07ok") == "ok"
    assert clean_text(b"caf\xc3\xa9 \xff\xfe") == "café \ufffd\ufffd"
    assert clean_text("a\u202eb\tc".encode()) == "ab c"


# -- the protocol -------------------------------------------------------------------------


def test_join_talk_leave():
    server = start_chat_server()
    ada = Raw(server.address, "ada")
    bob = Raw(server.address, "bob")
    assert ada.line() == "* bob joined"
    bob.send("héllo\n".encode())
    assert ada.line() == "bob: héllo"
    ada.send(b"hi bob\r\n")  # telnet's line ending
    assert bob.line() == "ada: hi bob"
    bob.close()
    assert ada.line() == "* bob left"
    ada.send(b"\n   \n")  # blank lines are not messages
    cy = Raw(server.address, "cy")
    assert ada.line() == "* cy joined"
    ada.close()
    assert cy.line() == "* ada left"
    cy.close()


def test_bad_names_get_an_error_line_and_another_try():
    server = start_chat_server()
    ada = Raw(server.address, "ada")  # keep a reference: a collected socket hangs up
    raw = Raw(server.address)
    for name, reply in [
        (b"\n", "! a name cannot be empty: type your name and press Enter"),
        (b"two words\n", "! a name cannot contain spaces: try 'two_words'"),
        (b"ada\n", "! the name 'ada' is taken: try another"),
        (b"x" * 33 + b"\n", "! a name has at most 32 characters: try a shorter one"),
    ]:
        raw.send(name)
        assert raw.line() == reply
    raw.send(b"\x1b[31mbob\x07\n")  # control characters are removed from names too
    assert raw.line() == "* welcome, bob!"
    assert ada.line() == "* bob joined"


def test_too_many_bad_names_and_the_server_hangs_up():
    server = start_chat_server()
    raw = Raw(server.address)
    raw.send(b"\n" * 5)
    replies = [raw.line() for _ in range(5)]
    assert replies[-1].endswith("too many tries: goodbye")
    assert raw.line() is None


def test_a_name_is_free_again_after_its_member_leaves():
    server = start_chat_server()
    first = Raw(server.address, "ada")
    watcher = Raw(server.address, "w")
    assert first.line() == "* w joined"
    first.close()
    assert watcher.line() == "* ada left"
    Raw(server.address, "ada")
    assert watcher.line() == "* ada joined"


def test_control_characters_and_bad_utf8_never_reach_others():
    server = start_chat_server()
    ada = Raw(server.address, "ada")
    raw = Raw(server.address)
    raw.send(b"ev\x1b[2Jil\x07\n")
    assert raw.line() == "* welcome, evil!"
    assert ada.line() == "* evil joined"
    raw.send(b"\x00\x1b[31m\x1b]0;pwned\x07red\x1b[0m \xff\xc3\n")
    raw_bytes = None
    # Read ada's raw bytes, not cleaned ones, to prove nothing got through.
    ada.sock.settimeout(TIMEOUT)
    raw_bytes = ada.sock.recv(65536)
    assert raw_bytes == "evil: red \ufffd\ufffd\n".encode()
    assert not any(b < 0x20 and b != 0x0A for b in raw_bytes)


def test_a_line_over_64_kib_is_refused_and_its_caller_hung_up_on():
    server = start_chat_server()
    ada = Raw(server.address, "ada")
    flood = Raw(server.address, "flood")
    assert ada.line() == "* flood joined"
    flood.send(b"x" * (64 * 1024 + 1))
    assert flood.line() == "! line too long (over 65536 bytes): goodbye"
    assert flood.line() is None
    assert ada.line() == "* flood left"
    bob = Raw(server.address, "bob")
    assert ada.line() == "* bob joined"
    bob.send(b"x" * (64 * 1024) + b"\n")  # exactly the limit is fine
    assert ada.line() == "bob: " + "x" * 65536


def test_ten_mib_without_a_newline_costs_the_server_little_memory():
    server = start_chat_server()
    ada = Raw(server.address, "ada")
    flood = Raw(server.address, "flood")
    assert ada.line() == "* flood joined"
    chunk = b"y" * (1 << 20)
    tracemalloc.start()
    try:

        def pour():
            try:
                for _ in range(10):
                    flood.sock.sendall(chunk)
            except OSError:
                pass  # the server hangs up long before the end

        sender = threading.Thread(target=pour)
        sender.start()
        assert ada.line() == "* flood left"
        sender.join(TIMEOUT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024
    assert peak < 4 * 1024 * 1024  # in fact a few line buffers' worth
    ada.send(b"still fine\n")
    ada.close()


def test_a_caller_who_resets_mid_line_costs_the_others_nothing():
    server = start_chat_server()
    ada, bob = Raw(server.address, "ada"), Raw(server.address, "bob")
    assert ada.line() == "* bob joined"
    gone = Raw(server.address, "gone")
    assert ada.line() == "* gone joined" and bob.line() == "* gone joined"
    gone.send(b"half a li")
    gone.reset()
    assert ada.line() == "* gone left" and bob.line() == "* gone left"
    ada.send(b"still here?\n")
    assert bob.line() == "ada: still here?"
    server.log.wait_for("error", timeout=TIMEOUT)
    assert any(isinstance(e, ConnectionResetError) for e in server.log.errors())


def _sleepy_member_is_dropped(server):
    """A member who never reads is dropped while the others keep chatting."""
    ada, watcher = start_bots(server, ["ada", "watcher"])
    sleepy = ChatBot(server, "sleepy", reads=False, receive_buffer=4096)
    watcher.wait_for("* sleepy joined")
    big = "z" * 20_000
    started = time.monotonic()
    for count in range(1, 201):  # bounded
        ada.say(big)
        watcher.wait_for(f"ada: {big}", count=count)
        if watcher.has("* sleepy left"):
            break
    watcher.wait_for("* sleepy left")
    # Generous: the point is that nobody waits for the sleepy member's send timeouts
    # to pile up, not a speed figure.
    assert time.monotonic() - started < 10.0
    ada.say("after")
    watcher.wait_for("ada: after")
    sleepy.close()


# These tests fill a member's buffers on purpose, with the small buffers they ask for;
# TCPLESSONS_PORTABLE=large ignores such requests (see tcplessons.portable), so there they
# would have to send megabytes: they run normally and with TCPLESSONS_PORTABLE=small.
needs_the_buffers_it_asks_for = pytest.mark.skipif(
    portable.active() == "large", reason="TCPLESSONS_PORTABLE=large ignores SO_SNDBUF/SO_RCVBUF"
)


@needs_the_buffers_it_asks_for
def test_a_member_who_never_reads_is_dropped_and_the_others_keep_chatting():
    server = start_chat_server(send_timeout=0.2, send_buffer=16 * 1024)
    _sleepy_member_is_dropped(server)


def test_a_vanished_bot_is_announced_as_left():
    server = start_chat_server()
    ada, bob = start_bots(server, ["ada", "bob"])
    ada.wait_for("* bob joined")
    bob.vanish()
    ada.wait_for("* bob left")
    assert server.room.names() == ["ada"]


def read_until_each(socks, wanted, timeout=TIMEOUT):
    """Read every socket until socket i has received wanted(i); return who never did."""
    got = {i: b"" for i in range(len(socks))}
    with selectors.DefaultSelector() as sel:
        for i, sock in enumerate(socks):
            sel.register(sock, selectors.EVENT_READ, i)
        waiting = set(got)
        deadline = time.monotonic() + timeout
        while waiting and time.monotonic() < deadline:
            for key, _ in sel.select(0.5):
                got[key.data] += key.fileobj.recv(65536)
                if wanted(key.data) in got[key.data]:
                    waiting.discard(key.data)
                    sel.unregister(key.fileobj)
    return waiting


def test_two_hundred_callers_at_once():
    server = start_chat_server()
    count = 200
    socks, errors = [None] * count, []

    def dial(i):
        try:
            sock = socket.create_connection(server.address, timeout=TIMEOUT)
            sock.sendall(f"m{i}\n".encode())
            socks[i] = sock
        except OSError as exc:
            errors.append(exc)

    dialers = [threading.Thread(target=dial, args=(i,)) for i in range(count)]
    for t in dialers:
        t.start()
    for t in dialers:
        t.join(TIMEOUT)
    assert not errors
    for sock in socks:
        sock.setblocking(False)
    # The server welcomes a member only once the room has added it.
    assert not read_until_each(socks, lambda i: f"* welcome, m{i}!\n".encode())
    assert len(server.room.names()) == count
    speaker = ChatBot(server, "speaker")
    speaker.say("hello crowd")
    never = read_until_each(socks, lambda i: b"speaker: hello crowd\n")
    assert not never, f"{len(never)} callers never heard the message"
    for sock in socks:
        sock.close()
    speaker.close()


@needs_the_buffers_it_asks_for
def test_stop_leaves_no_thread_and_no_file_descriptor():
    threads_before, fds_before = our_threads(), open_fds()
    server = start_chat_server(send_timeout=5.0, send_buffer=8192)
    members = [Raw(server.address, f"m{i}") for i in range(5)]
    bots = start_bots(server, ["b1", "b2"])
    sleepy = ChatBot(server, "sleepy", reads=False, receive_buffer=4096)
    gone = Raw(server.address, "gone")
    gone.send(b"half")
    gone.reset()
    bots[0].say("hello")
    for k in range(5):  # 100 kB for sleepy: its writer thread is stuck in sendall()
        bots[0].say(f"{k} " + "s" * 20_000)
    bots[1].wait_for(f"b1: 4 {'s' * 20_000}")
    assert any(t.name == "tcplessons chat writer sleepy" for t in threading.enumerate())
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 1.0  # no waiting for the stuck send
    for bot in bots + [sleepy]:
        bot.close()
    for member in members:
        member.close()
    assert (
        our_threads() - threads_before == set()
    )  # (a thread of an earlier test may end meanwhile)
    if fds_before is not None:
        assert open_fds() == fds_before


# -- the learner's room in the course's server ----------------------------------------------


def _solution_room():
    namespace = {}
    source = Path(__file__).with_name("solutions").joinpath("ChatRoom.py").read_text()
    exec(compile(source, "ChatRoom.py", "exec"), namespace)
    return namespace["ChatRoom"]()


def test_runs_the_learners_room():
    server = start_chat_server(_solution_room(), name="mine")
    ada, bob = start_bots(server, ["ada", "bob"])
    ada.wait_for("* bob joined")
    bob.say("my room works")
    ada.wait_for("bob: my room works")
    bob.close()
    ada.wait_for("* bob left")


def test_the_learners_room_drops_a_member_who_never_reads_thanks_to_the_send_deadline():
    # Lesson 06's recap says every send has a deadline: start_chat_server gives each
    # member's socket one, so a plain sendall() in the learner's room fails with an
    # OSError instead of blocking forever, and rule 2 drops the member.
    server = start_chat_server(
        _solution_room(), name="mine", send_timeout=0.2, send_buffer=16 * 1024
    )
    _sleepy_member_is_dropped(server)


def test_a_room_that_raises_is_recorded_not_printed(capsys):
    class Broken:
        def join(self, name, conn):
            raise NotImplementedError("not yet")

        leave = broadcast = join

    server = start_chat_server(Broken(), name="broken")
    raw = Raw(server.address)
    raw.send(b"ada\n")
    assert raw.line() == "! the room is not working: goodbye"
    assert raw.line() is None
    server.log.wait_for("error", timeout=TIMEOUT)
    assert isinstance(server.log.errors()[0], NotImplementedError)
    assert capsys.readouterr() == ("", "")


def test_a_room_without_the_methods_is_refused():
    with pytest.raises(TypeError, match="join"):
        start_chat_server(object())


def test_course_room_tells_the_others_once():
    room = Room()
    a1, a2 = socket.socketpair()
    b1, b2 = socket.socketpair()
    with a1, a2, b1, b2:
        room.join("a", a1)
        room.join("b", b1)
        room.leave("b")
        room.leave("b")  # twice: nothing the second time
        a2.settimeout(TIMEOUT)
        assert a2.recv(100) == b"* b joined\n* b left\n"


# -- the chat window ------------------------------------------------------------------------


def test_chat_window_repr_send_and_transcript():
    pytest.importorskip("ipywidgets")
    server = start_chat_server()
    window = ChatWindow(server, "you")
    assert repr(window) == "<ChatWindow 'you'>"
    bundle = window._repr_mimebundle_()
    assert bundle["text/plain"] == "<ChatWindow 'you'>"
    assert "application/vnd.jupyter.widget-view+json" in bundle
    (ada,) = start_bots(server, ["ada"])
    window.wait_for("* ada joined")
    window._input.value = "from the box"  # as if typed, then Enter
    ada.wait_for("you: from the box")
    window._button.click()  # an empty box sends nothing
    window._input.value = "from the button"
    window._button.click()
    ada.wait_for("you: from the button")
    ada.say("<b>not bold</b>")
    window.wait_for("ada: <b>not bold</b>")
    assert "&lt;b&gt;" in window._messages.value
    assert window.text() == "\n".join(
        [
            "* welcome, you!",
            "* ada joined",
            "you: from the box",
            "you: from the button",
            "ada: <b>not bold</b>",
        ]
    )
    window.close()
    window.close()  # twice is fine
    assert window._button.disabled


def test_a_refused_name_raises_with_the_servers_reply():
    server = start_chat_server()
    start_bots(server, ["ada"])
    with pytest.raises(ValueError, match="taken"):
        ChatClient(server, "ada")


@needs_the_buffers_it_asks_for
def test_a_full_member_does_not_delay_the_others_copy_of_a_message():
    # Sleepy joins before the watcher, so the room reaches Sleepy first every time.
    server = start_chat_server(send_timeout=1.0, send_buffer=16 * 1024)
    (ada,) = start_bots(server, ["ada"])
    sleepy = ChatBot(server, "sleepy", reads=False, receive_buffer=4096)
    watcher = ChatBot(server, "watcher")
    ada.wait_for("* watcher joined")
    big = "q" * 20_000
    slowest = 0.0
    for count in range(1, 201):  # bounded
        started = time.monotonic()
        ada.say(big)
        watcher.wait_for(f"ada: {big}", count=count)
        slowest = max(slowest, time.monotonic() - started)
        if watcher.has("* sleepy left"):
            break
    watcher.wait_for("* sleepy left")
    # The send to Sleepy waited its full second; the watcher never waited for it.
    assert slowest < 0.5
    sleepy.close()


@needs_the_buffers_it_asks_for
def test_a_member_who_reads_late_still_gets_every_line_in_order():
    # Its buffers fill, so lines wait in its outbox and a writer thread delivers them.
    server = start_chat_server(send_buffer=8192)
    writers = []
    original = server.room._write
    server.room._write = lambda member: (writers.append(member.name), original(member))
    ada, watcher = start_bots(server, ["ada", "watcher"])
    late = socket.socket()
    late.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    late.settimeout(TIMEOUT)
    late.connect(server.address)
    late.sendall(b"late\n")
    welcome = b"* welcome: type your name and press Enter\n* welcome, late!\n"
    got = b""
    while len(got) < len(welcome):  # the welcome comes once late is in the room
        got += late.recv(len(welcome) - len(got))
    assert got == welcome
    ada.wait_for("* late joined")
    lines = [f"ada: {k:03d} " + "w" * 10_000 for k in range(20)]
    for line in lines:
        ada.say(line[len("ada: ") :])
    ada.say("done")
    watcher.wait_for("ada: done")  # the room has offered everything to late by now
    expected = "\n".join(lines + ["ada: done"]).encode() + b"\n"
    got = b""
    while len(got) < len(expected):  # bounded by the socket timeout
        data = late.recv(65536)
        assert data, "the server hung up on a member who was only slow"
        got += data
    assert got == expected
    assert "late" in writers  # the outbox path really ran
    assert server.room.names() == ["ada", "late", "watcher"]
    late.close()
    ada.wait_for("* late left")
