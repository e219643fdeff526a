"""The course's framing (sans-IO lines and length prefixes), its socket adapters, and the
stream inspector used in lesson 04."""

import socket
import threading

import pytest

from tcplessons import (
    FrameDecoder,
    FrameTooLarge,
    LineSplitter,
    LineTooLong,
    StreamView,
    encode_frame,
    read_lines,
    recv_frame,
    send_frame,
    wait_for_bytes,
)
from tcplessons.exercises.tools import loopback_pair

TEXT = "héllo\r\nwörld\n日本 🙂\n\nlast".encode()
LINES = ["héllo", "wörld", "日本 🙂", "", "last"]


def feed_in_pieces(splitter, data, size):
    out = []
    for start in range(0, len(data), size):
        out += splitter.feed(data[start : start + size])
    return out + splitter.feed(b"")


# -- LineSplitter -------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 4096])
def test_lines_are_the_same_however_the_bytes_are_split(size):
    assert feed_in_pieces(LineSplitter(), TEXT, size) == LINES


def test_unfinished_line_waits_for_the_rest():
    lines = LineSplitter()
    assert lines.feed(b"hel") == []
    assert lines.pending == "hel"
    assert lines.feed(b"lo\nwor") == ["hello"]
    assert lines.feed(b"ld\n") == ["world"]
    assert lines.feed(b"") == []


def test_crlf_split_across_feeds_is_removed():
    lines = LineSplitter()
    assert lines.feed(b"hi\r") == []
    assert lines.feed(b"\nthere\r\n") == ["hi", "there"]


def test_invalid_utf8_becomes_replacement_characters():
    assert LineSplitter().feed(b"caf\xe9 \xff!\n") == ["caf\ufffd \ufffd!"]


def test_half_a_character_at_hang_up_becomes_a_replacement_character():
    lines = LineSplitter()
    assert lines.feed(b"ab\xe6\x97") == []
    assert lines.feed(b"") == ["ab\ufffd"]


def test_hang_up_is_final():
    lines = LineSplitter()
    assert lines.feed(b"") == []
    assert lines.closed
    assert lines.feed(b"") == []
    with pytest.raises(ValueError):
        lines.feed(b"more")


def test_a_line_longer_than_the_limit_raises_and_is_dropped():
    lines = LineSplitter(max_line=10)
    assert lines.feed(b"0123456789") == []
    with pytest.raises(LineTooLong):
        lines.feed(b"x")
    assert lines.pending == ""
    with pytest.raises(LineTooLong):
        LineSplitter(max_line=10).feed(b"ok\n" + b"y" * 11)
    with pytest.raises(LineTooLong):  # a long line that arrives whole counts too
        LineSplitter(max_line=10).feed(b"y" * 11 + b"\n")
    assert LineSplitter(max_line=10).feed(b"y" * 10 + b"\r\n") == ["y" * 10]
    split_crlf = LineSplitter(max_line=10)
    assert split_crlf.feed(b"y" * 10 + b"\r") == []
    assert split_crlf.feed(b"\n") == ["y" * 10]


def test_many_small_feeds_of_a_long_line_stay_fast():
    lines = LineSplitter(max_line=2_000_000)
    data = "é".encode() * 500_000
    for start in range(0, len(data), 4096):
        assert lines.feed(data[start : start + 4096]) == []
    assert lines.feed(b"\n") == ["é" * 500_000]


# -- length prefixes ----------------------------------------------------------------------


def test_encode_frame_counts_bytes_big_endian():
    assert encode_frame("héllo") == b"\x00\x00\x00\x06h\xc3\xa9llo"
    assert encode_frame(b"\x00\xff") == b"\x00\x00\x00\x02\x00\xff"
    assert encode_frame("") == b"\x00\x00\x00\x00"


@pytest.mark.parametrize("size", [1, 3, 5, 4096])
def test_frame_decoder_keeps_leftovers_for_the_next_message(size):
    texts = ["first", "", "second, 二番目", "x" * 5000]
    wire = b"".join(encode_frame(t) for t in texts)
    frames, got = FrameDecoder(), []
    for start in range(0, len(wire), size):
        got += frames.feed(wire[start : start + size])
    assert got == texts
    assert frames.feed(b"") == []


def test_frame_decoder_bytes_mode_and_limits():
    assert FrameDecoder(text=False).feed(encode_frame(b"\xff\xfe")) == [b"\xff\xfe"]
    with pytest.raises(FrameTooLarge):
        FrameDecoder(max_size=10).feed(encode_frame("x" * 11))


def test_frame_decoder_hang_up_mid_message_is_eof():
    frames = FrameDecoder()
    assert frames.feed(encode_frame("hello")[:6]) == []
    with pytest.raises(EOFError):
        frames.feed(b"")


# -- socket adapters ------------------------------------------------------------------------


def test_send_and_recv_frame_over_a_real_connection():
    with loopback_pair() as (client, server):
        big = "日本語 " * 100_000
        sender = threading.Thread(
            target=lambda: [send_frame(client, t) for t in ("one", big, "three")]
        )
        sender.start()
        assert [recv_frame(server) for _ in range(3)] == ["one", big, "three"]
        sender.join(5)
        client.shutdown(socket.SHUT_WR)
        with pytest.raises(EOFError):
            recv_frame(server)


def test_recv_frame_refuses_huge_announcements():
    with loopback_pair() as (client, server):
        client.sendall(b"\xff\xff\xff\xff")
        with pytest.raises(FrameTooLarge):
            recv_frame(server, max_size=1024)


def test_read_lines_until_the_caller_hangs_up():
    with loopback_pair() as (client, server):
        client.sendall(TEXT)
        client.shutdown(socket.SHUT_WR)
        assert list(read_lines(server, bufsize=3)) == LINES


# -- StreamView and wait_for_bytes ---------------------------------------------------------


def test_stream_view_shows_writes_and_reads_side_by_side():
    view = StreamView("client writes", "server reads")
    with loopback_pair() as (client, server):
        for piece in (b"one ", b"two ", b"three"):
            view.write(client, piece)
        assert wait_for_bytes(server, 13) == 13
        assert view.read(server, 1024) == b"one two three"
        client.shutdown(socket.SHUT_WR)
        assert view.read(server, 10) == b""
    lines = view.lines()
    assert lines[0].startswith("client writes") and lines[0].endswith("| server reads")
    assert lines[2] == "sendall b'one '  (4 bytes)".ljust(36) + "|"
    assert lines[-2].endswith("| recv(1024) -> b'one two three'  (13 bytes)")
    assert lines[-1].endswith("| recv(10) -> b''  (hung up)")
    assert "one two three" in view.value  # the widget shows the same rows
    assert repr(view) == "<StreamView>"
    view.clear()
    assert len(view.lines()) == 2


def test_a_stream_view_snapshot_keeps_the_picture_of_its_moment():
    view = StreamView("client writes", "server reads")
    with loopback_pair() as (client, server):
        view.write(client, b"one ")
        before = view.snapshot()
        view.write(client, b"two ")
    assert repr(before) == "\n".join(view.lines()[:3])  # the text a notebook test compares
    assert "one " in before._repr_html_() and "two " not in before._repr_html_()
    assert "two " in repr(view.snapshot())


def test_wait_for_bytes_waits_for_all_of_them_without_reading():
    with loopback_pair() as (client, server):
        client.sendall(b"abc")
        timer = threading.Timer(0.05, client.sendall, args=(b"def",))
        timer.start()
        assert wait_for_bytes(server, 6, timeout=5) == 6
        assert server.recv(1024) == b"abcdef"
        timer.join()


def test_wait_for_bytes_returns_early_when_the_peer_hangs_up_and_times_out_otherwise():
    with loopback_pair() as (client, server):
        client.sendall(b"ab")
        with pytest.raises(TimeoutError):
            wait_for_bytes(server, 5, timeout=0.05)
        client.shutdown(socket.SHUT_WR)
        assert wait_for_bytes(server, 5, timeout=5) == 2
        assert server.recv(10) == b"ab"
