"""tcp_state() reads a call's states from the system; the loopback helpers give a
refusing, a silent and (where present) an IPv6 address."""

import socket
import time

import pytest

from tcplessons import (
    closed_port,
    has_ipv6_loopback,
    reset_close,
    silent_listener,
    tcp_state,
    wait_for_state,
)


def test_the_life_of_one_call():
    with socket.create_server(("127.0.0.1", 0)) as doorbell:
        assert tcp_state(doorbell) == "LISTEN"
        caller = socket.create_connection(doorbell.getsockname(), timeout=5)
        answerer, _ = doorbell.accept()
        answerer.settimeout(5)
        assert (tcp_state(caller), tcp_state(answerer)) == ("ESTABLISHED", "ESTABLISHED")
        caller.shutdown(socket.SHUT_WR)
        assert answerer.recv(10) == b""
        assert wait_for_state(caller, "FIN_WAIT2") == "FIN_WAIT2"
        assert tcp_state(answerer) == "CLOSE_WAIT"
        answerer.close()
        assert caller.recv(10) == b""
        assert wait_for_state(caller, "TIME_WAIT") == "TIME_WAIT"
        assert wait_for_state(answerer, "CLOSED") == "CLOSED"
        caller.close()


def test_a_reset_leaves_nothing_behind_at_the_other_end():
    with socket.create_server(("127.0.0.1", 0)) as doorbell:
        caller = socket.create_connection(doorbell.getsockname(), timeout=5)
        answerer, _ = doorbell.accept()
        with answerer:
            answerer.settimeout(5)
            reset_close(caller)
            with pytest.raises(ConnectionResetError):
                answerer.recv(10)
            assert tcp_state(answerer) == "CLOSED"


def test_a_socket_never_read_while_open_cannot_be_read():
    sock = socket.socket()
    sock.close()
    with pytest.raises(ValueError):
        tcp_state(sock)


def test_wait_for_state_gives_up_with_the_last_reading():
    with socket.create_server(("127.0.0.1", 0)) as doorbell:
        assert wait_for_state(doorbell, "ESTABLISHED", timeout=0.2) == "LISTEN"


def test_closed_port_refuses():
    with closed_port() as nobody:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(nobody, timeout=5)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_silent_listener_never_answers(host):
    if host == "::1" and not has_ipv6_loopback():
        pytest.skip("this computer has no ::1")
    with silent_listener(host) as silent:
        if not silent.silent:
            pytest.skip("this system refuses calls to a full queue")
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            socket.create_connection(silent.address[:2], timeout=0.3)
        assert time.monotonic() - started >= 0.3


def test_wait_for_state_does_not_wait_for_a_reading_that_cannot_come(monkeypatch):
    import tcplessons.states as states

    readings = []

    def unknown(sock):
        readings.append(sock)
        return states.UNKNOWN

    monkeypatch.setattr(states, "tcp_state", unknown)
    with socket.create_server(("127.0.0.1", 0)) as doorbell:
        assert states.wait_for_state(doorbell, "CLOSED", timeout=30) == "UNKNOWN"
    assert len(readings) == 1


def test_where_a_full_queue_refuses_the_listener_says_so_without_probing(monkeypatch):
    import tcplessons.loopback as loopback

    monkeypatch.setattr(loopback.sys, "platform", "win32")
    with silent_listener() as silent:
        assert silent.silent is False
        assert "refuses" in silent.why_not_silent


def test_a_silent_listener_has_no_reason_to_give():
    with silent_listener() as silent:
        if not silent.silent:
            pytest.skip("this system refuses calls to a full queue")
        assert silent.why_not_silent == ""
