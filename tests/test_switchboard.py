"""The Switchboard widget follows a real server on 127.0.0.1, line by line.

Every test waits on the server's event log (with a timeout) and then reads the board:
the log calls the board's listener before wait_for() returns, so no sleeps are needed.
Buttons are pressed with ``button.click()``, the same path a click in JupyterLab takes.
"""

from __future__ import annotations

import socket
import threading

import pytest

from tcplessons import Switchboard, start_echo_server, start_server
from tcplessons.widgets import switchboard as switchboard_module

WAIT = 5.0


@pytest.fixture
def servers():
    """Start servers with unique names; every one is stopped after the test."""
    started = []

    def start(handler=None, **options):
        name = f"sb-test-{len(started)}"
        server = (
            start_server(handler, name, **options)
            if handler
            else start_echo_server(name, **options)
        )
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def lines_of(board):
    return board.text().splitlines()


def hang_up_button(board, number):
    """The "Hang up" button shown on line ``number``'s row (None if it has none)."""
    for box in board.lines_box.children:
        label, *rest = box.children
        if f"line {number}:" in label.value:
            return rest[0] if rest else None
    raise AssertionError(f"line {number} is not shown: {board.text()}")


def echo_call(address, data):
    with socket.create_connection(address, timeout=WAIT) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        got = b""
        for _ in range(100_000):  # bounded: each recv returns at least one byte or b""
            chunk = sock.recv(65536)
            if not chunk:
                return got
            got += chunk
    raise AssertionError("the server never hung up")


def test_a_call_in_both_directions_then_the_caller_hangs_up(servers):
    server = servers()
    board = Switchboard(server)
    assert lines_of(board) == [
        f"Doorbell {server.name!r} on 127.0.0.1: listening, 0 callers waiting"
    ]

    with socket.create_connection(server.address, timeout=WAIT) as sock:
        server.log.wait_for("connected", line=1, timeout=WAIT)
        assert lines_of(board)[1:] == ["line 1: open, 0 bytes in, 0 bytes out"]
        sock.sendall(b"hello")
        server.log.wait_for("sent", line=1, timeout=WAIT)
        assert lines_of(board)[1:] == ["line 1: open, 5 bytes in, 5 bytes out"]
        assert sock.recv(5) == b"hello"
        sock.sendall(b"!")
        assert sock.recv(1) == b"!"
    server.log.wait_for("closed", line=1, timeout=WAIT)
    assert lines_of(board)[1:] == [
        "line 1: closed after the caller finished, 6 bytes in, 6 bytes out"
    ]
    board.close()


def test_a_caller_who_hangs_up_without_reading_resets_the_line(servers):
    server = servers()
    board = Switchboard(server)
    with socket.create_connection(server.address, timeout=WAIT) as sock:
        sock.sendall(b"hello")
        server.log.wait_for("sent", line=1, timeout=WAIT)
        # Closing with the echo still unread makes Linux send a reset, not a goodbye.
    server.log.wait_for("closed", line=1, timeout=WAIT)
    assert lines_of(board)[1:] == [
        "line 1: closed, 5 bytes in, 5 bytes out, error: ConnectionResetError"
    ]


def test_one_byte_is_singular(servers):
    server = servers()
    board = Switchboard(server)
    assert echo_call(server.address, b"x") == b"x"
    server.log.wait_for("closed", line=1, timeout=WAIT)
    assert lines_of(board)[1] == "line 1: closed after the caller finished, 1 byte in, 1 byte out"


def test_a_board_replays_what_happened_before_it_was_built(servers):
    server = servers()
    echo_call(server.address, b"abc")
    server.log.wait_for("closed", line=1, timeout=WAIT)
    board = Switchboard(server)
    assert lines_of(board)[1:] == [
        "line 1: closed after the caller finished, 3 bytes in, 3 bytes out"
    ]


def test_ring_dials_and_the_line_is_open_when_it_returns(servers):
    server = servers()
    board = Switchboard(server)
    sock = board.ring()
    # ring() waited for the server to answer: no wait_for needed before reading.
    assert lines_of(board)[1:] == ["line 1: open, 0 bytes in, 0 bytes out"]
    sock.sendall(b"ping")
    assert sock.recv(4) == b"ping"
    server.log.wait_for("sent", line=1, timeout=WAIT)
    assert lines_of(board)[1:] == ["line 1: open, 4 bytes in, 4 bytes out"]
    board.close()
    assert sock.fileno() == -1


def test_the_ring_button_rings(servers):
    server = servers()
    board = Switchboard(server)
    board.ring_button.click()
    board.ring_button.click()
    assert lines_of(board)[1:] == [
        "line 1: open, 0 bytes in, 0 bytes out",
        "line 2: open, 0 bytes in, 0 bytes out",
    ]
    assert board.status.value == ""
    board.close()
    server.log.wait_for("closed", count=2, timeout=WAIT)


def test_hang_up_from_the_server_side_shows_closed_not_caller(servers):
    server = servers()
    board = Switchboard(server)
    sock = board.ring()
    assert board.hang_up(1) is True
    server.log.wait_for("closed", line=1, timeout=WAIT)
    assert lines_of(board)[1:] == ["line 1: closed, 0 bytes in, 0 bytes out"]
    assert sock.recv(1) == b""  # the caller hears the line go dead
    assert board.hang_up(1) is False  # not open any more
    assert board.hang_up(99) is False
    board._row_buttons[0].click()  # a click that arrives after the line closed
    assert board.status.value == "Line 1 is not open."


def test_the_hang_up_button_hangs_up_its_own_line(servers):
    server = servers()
    board = Switchboard(server)
    board.ring()
    board.ring()
    assert hang_up_button(board, 1) is not None and hang_up_button(board, 2) is not None
    hang_up_button(board, 2).click()
    server.log.wait_for("closed", line=2, timeout=WAIT)
    assert lines_of(board)[1:] == [
        "line 1: open, 0 bytes in, 0 bytes out",
        "line 2: closed, 0 bytes in, 0 bytes out",
    ]
    assert hang_up_button(board, 2) is None  # a closed line has no button
    assert hang_up_button(board, 1).tooltip == "Hang up line 1"
    board.close()


def test_a_handler_error_shows_its_type_on_the_line(servers):
    def grumpy(conn):
        conn.recv(100)
        raise ValueError("I only take calls on Mondays")

    server = servers(grumpy)
    board = Switchboard(server)
    with socket.create_connection(server.address, timeout=WAIT) as sock:
        sock.sendall(b"hi")
        server.log.wait_for("closed", line=1, timeout=WAIT)
    assert lines_of(board)[1:] == ["line 1: closed, 2 bytes in, 0 bytes out, error: ValueError"]
    assert "#cf222e" in board._row_texts[0].value  # shown in red


def test_stopping_the_server_stops_the_board(servers):
    server = servers()
    board = Switchboard(server)
    own = board.ring()
    with socket.create_connection(server.address, timeout=WAIT) as other:
        other.sendall(b"hey")
        server.log.wait_for("sent", line=2, timeout=WAIT)
        server.stop()
    assert lines_of(board) == [
        f"Doorbell {server.name!r} on 127.0.0.1: stopped",
        # stop() shut these lines down: the server hung up, not the callers
        "line 1: closed, 0 bytes in, 0 bytes out",
        "line 2: closed, 3 bytes in, 3 bytes out",
    ]
    assert own.fileno() == -1  # the board hung up its own call
    assert board.ring_button.disabled
    assert all(len(box.children) == 1 for box in board.lines_box.children)  # no buttons
    assert board._unsubscribe is None


def test_a_board_on_a_stopped_server(servers):
    server = servers()
    echo_call(server.address, b"bye")
    server.stop()
    board = Switchboard(server)
    assert lines_of(board) == [
        f"Doorbell {server.name!r} on 127.0.0.1: stopped",
        "line 1: closed after the caller finished, 3 bytes in, 3 bytes out",
    ]
    assert board.ring_button.disabled
    with pytest.raises(ConnectionRefusedError):
        board.ring()
    board.ring_button.click()  # from the browser: no traceback, a message instead
    assert "Could not ring: ConnectionRefusedError" in board.status.value
    board.close()


def test_callers_waiting_in_the_backlog_of_a_one_at_a_time_server(servers):
    server = servers(one_at_a_time=True)
    board = Switchboard(server)
    calls = [board.ring() for _ in range(3)]
    # The first call is answered; the others wait in the backlog, not yet lines.
    assert lines_of(board) == [
        f"Doorbell {server.name!r} on 127.0.0.1: listening, 2 callers waiting",
        "line 1: open, 0 bytes in, 0 bytes out",
    ]
    hang_up_button(board, 1).click()
    server.log.wait_for("connected", line=2, timeout=WAIT)
    assert lines_of(board) == [
        f"Doorbell {server.name!r} on 127.0.0.1: listening, 1 caller waiting",
        "line 1: closed, 0 bytes in, 0 bytes out",
        "line 2: open, 0 bytes in, 0 bytes out",
    ]
    calls[1].close()  # the caller on line 2 gives up
    server.log.wait_for("connected", line=3, timeout=WAIT)
    board.refresh()
    assert lines_of(board) == [
        f"Doorbell {server.name!r} on 127.0.0.1: listening, 0 callers waiting",
        "line 1: closed, 0 bytes in, 0 bytes out",
        "line 2: closed after the caller finished, 0 bytes in, 0 bytes out",
        "line 3: open, 0 bytes in, 0 bytes out",
    ]
    board.close()
    assert all(sock.fileno() == -1 for sock in calls)


def test_many_concurrent_callers_counts_exact_and_rows_bounded(servers):
    # A backlog bigger than the crowd: an overflowing backlog drops a SYN, and the
    # caller's kernel only retries it a second later.
    server = servers(backlog=64)
    board = Switchboard(server)
    callers = switchboard_module.SHOWN_LINES + 5
    size = 50_000  # several recv() calls per line: many events from many threads
    payload = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    results = []

    def caller():
        results.append(echo_call(server.address, payload))

    threads = [threading.Thread(target=caller) for _ in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert results == [payload] * callers
    server.log.wait_for("closed", count=callers, timeout=WAIT)

    shown = switchboard_module.SHOWN_LINES
    assert lines_of(board) == [
        f"Doorbell {server.name!r} on 127.0.0.1: listening, 0 callers waiting",
        "… 5 earlier lines not shown",
    ] + [
        f"line {n}: closed after the caller finished, 50000 bytes in, 50000 bytes out"
        for n in range(6, callers + 1)
    ]
    assert len(board.lines_box.children) == shown
    assert board.more.value == "… 5 earlier lines not shown"
    # Every line is counted, shown or not.
    assert sorted(board._picture.lines) == list(range(1, callers + 1))
    assert {(row.bytes_in, row.bytes_out) for row in board._picture.lines.values()} == {
        (size, size)
    }


def test_repr_is_constant(servers):
    server = servers()
    board = Switchboard(server)
    before = repr(board)
    board.ring()
    server.stop()
    assert repr(board) == before == f"<Switchboard for {server.name!r}>"
    assert board._repr_mimebundle_()["text/plain"] == before


def test_close_is_idempotent_and_leaves_no_socket_open(servers):
    server = servers()
    board = Switchboard(server)
    calls = [board.ring() for _ in range(3)]
    board.close()
    board.close()
    assert all(sock.fileno() == -1 for sock in calls)
    server.log.wait_for("hung up", count=3, timeout=WAIT)  # the server heard all three
    assert server.log.wait_for("closed", count=3, timeout=WAIT)
    assert board._unsubscribe is None
    frozen = board.text()
    echo_call(server.address, b"after")
    server.log.wait_for("closed", line=4, timeout=WAIT)
    assert board.text() == frozen  # no longer following
    assert board.ring_button.disabled
    with pytest.raises(RuntimeError, match="closed"):
        board.ring()


def test_the_widgets_show_the_picture(servers):
    server = servers()
    board = Switchboard(server)
    board.ring()
    assert board.doorbell.value == (
        f"<b>Doorbell &#x27;{server.name}&#x27; on 127.0.0.1</b>: listening, 0 callers waiting"
    )
    (row,) = board.lines_box.children
    label, button = row.children
    assert "line 1: open, 0 bytes in, 0 bytes out" in label.value
    assert button.description == "Hang up"
    assert board.ring_button.description == "Ring the doorbell"
    assert not board.ring_button.disabled
    assert board.more.value == ""
    board.close()


def test_the_widget_tree_embeds_as_html(servers, tmp_path):
    from ipywidgets.embed import dependency_state, embed_minimal_html

    server = servers()
    board = Switchboard(server)
    board.ring()
    page = tmp_path / "board.html"
    # Only this board's widgets (the default is every widget alive in the process).
    embed_minimal_html(page, views=[board], state=dependency_state(board), title="switchboard")
    text = page.read_text(encoding="utf-8")
    assert "line 1: open, 0 bytes in, 0 bytes out" in text
    assert "Ring the doorbell" in text
    board.close()


def test_a_flood_of_tiny_reads_is_counted_exactly_and_reaches_the_widgets(servers):
    def one_byte_at_a_time(conn):
        while conn.recv(1):
            pass

    server = servers(one_byte_at_a_time)
    board = Switchboard(server)
    with socket.create_connection(server.address, timeout=WAIT) as sock:
        sock.sendall(b"x" * 3000)  # 3000 "received" events from the server's thread
        server.log.wait_for("received", line=1, count=3000, timeout=WAIT)
        # text() is exact at once; the widgets get byte counts at most every
        # PUSH_EVERY seconds, and a timer writes the last one.
        assert lines_of(board)[1:] == ["line 1: open, 3000 bytes in, 0 bytes out"]
        timer = board._timer
        if timer is not None:
            timer.join(WAIT)
        assert "line 1: open, 3000 bytes in, 0 bytes out" in board._row_texts[0].value
    server.log.wait_for("closed", line=1, timeout=WAIT)
    assert (
        "line 1: closed after the caller finished, 3000 bytes in, 0 bytes out"
        in board._row_texts[0].value
    )


def test_stopping_in_the_middle_of_a_flood_leaves_no_board_thread(servers):
    def one_byte_at_a_time(conn):
        while conn.recv(1):
            pass

    server = servers(one_byte_at_a_time)
    board = Switchboard(server)
    with socket.create_connection(server.address, timeout=WAIT) as sock:
        sock.sendall(b"y" * 500)
        server.log.wait_for("received", line=1, count=500, timeout=WAIT)
        server.stop()
    assert board._timer is None
    assert not [t for t in threading.enumerate() if t.name.startswith(f"tcplessons {server.name}")]
    assert lines_of(board)[1:] == ["line 1: closed, 500 bytes in, 0 bytes out"]
    assert "line 1: closed, 500 bytes in, 0 bytes out" in board._row_texts[0].value
