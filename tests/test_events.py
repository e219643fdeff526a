"""The event log: thread-safe, bounded, waitable, deterministic text."""

import threading

import pytest

from tcplessons import EventLog


def test_wait_for_returns_the_matching_event():
    log = EventLog()
    threading.Thread(target=lambda: [log.record("connected", 1), log.record("hung up", 1)]).start()
    event = log.wait_for("hung up", line=1, timeout=5)
    assert str(event) == "line 1: hung up"


def test_wait_for_times_out_saying_what_happened():
    log = EventLog()
    log.record("connected", 1)
    with pytest.raises(TimeoutError, match=r"'hung up' on line 1 .*line 1: connected"):
        log.wait_for("hung up", line=1, timeout=0.05)


def test_wait_for_counts_and_predicates():
    log = EventLog()
    for n in range(1, 4):
        log.record("received", n, nbytes=n, data=b"x" * n)
    assert log.wait_for("received", count=3, timeout=1).line == 3
    assert log.wait_for(lambda e: e.nbytes == 2, timeout=1).line == 2


def test_unknown_kind_is_refused():
    log = EventLog()
    with pytest.raises(ValueError, match="unknown event kind 'recieved'"):
        log.record("recieved")
    with pytest.raises(ValueError):
        log.wait_for("recieved", timeout=0)


def test_text_is_grouped_by_line_whatever_the_thread_order():
    log = EventLog()
    log.record("listening")
    log.record("connected", 2)
    log.record("connected", 1)
    log.record("received", 1, nbytes=3, data=b"abc")
    log.record("sent", 2, nbytes=1, data=b"z")
    log.record("stopped")
    assert log.lines() == [
        "server: listening",
        "line 1: connected",
        "line 1: received 3 bytes b'abc'",
        "line 2: connected",
        "line 2: sent 1 byte b'z'",
        "server: stopped",
    ]


def test_data_preview_is_bounded():
    log = EventLog()
    event = log.record("received", 1, nbytes=10_000, data=b"a" * 10_000)
    assert len(event.data) == 64 and str(event).endswith("…")


def test_log_size_is_bounded():
    log = EventLog(limit=100)
    for _ in range(1000):
        log.record("received", 1, nbytes=1, data=b"x")
    assert len(log) == 100 and log.dropped == 900


def test_concurrent_records_are_all_kept():
    log = EventLog()

    def work(n):
        for _ in range(500):
            log.record("sent", n, nbytes=1, data=b"x")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(log.events("sent")) == 4000
    assert all(len(log.events(line=n)) == 500 for n in range(1, 9))


def test_listeners_see_events_before_waiters_and_broken_ones_are_ignored():
    log = EventLog()
    seen = []
    log.subscribe(lambda e: 1 / 0)
    unsubscribe = log.subscribe(seen.append)
    threading.Thread(target=log.record, args=("connected", 1)).start()
    log.wait_for("connected", timeout=5)
    assert [str(e) for e in seen] == ["line 1: connected"]
    unsubscribe()
    log.record("closed", 1)
    assert len(seen) == 1


def test_repr_is_constant():
    log = EventLog()
    log.record("connected", 1)
    assert repr(log) == "<EventLog>"
