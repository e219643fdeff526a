"""The serve_many checks accept every correct way of writing it, fail wrong ones fast,
and leave nothing behind: no thread spinning, no stderr, threading.excepthook restored."""

import selectors
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tcplessons.exercises import get_exercise

EXERCISE = get_exercise("serve_many")


def with_daemon_threads(listener, handler):
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


def with_plain_threads_closing_conn(listener, handler):
    def serve(conn):
        with conn:  # close the line whatever the handler did
            handler(conn)

    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            break
        threading.Thread(target=serve, args=(conn,)).start()


def with_a_big_pool(listener, handler):
    with ThreadPoolExecutor(max_workers=64) as pool:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            pool.submit(handler, conn)


def with_joined_threads_at_the_end(listener, handler):
    threads = []
    while listener.fileno() != -1:
        try:
            conn, _ = listener.accept()
        except OSError:
            break
        thread = threading.Thread(target=handler, args=(conn,))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()


def with_a_polling_timeout(listener, handler):
    try:
        listener.settimeout(0.05)
    except OSError:  # already closed
        return
    while True:
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        conn.settimeout(None)
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


def with_a_selector(listener, handler):
    if listener.fileno() == -1:
        return
    with selectors.DefaultSelector() as selector:
        selector.register(listener, selectors.EVENT_READ)
        while True:
            selector.select(timeout=0.05)
            try:
                conn, _ = listener.accept()
            except BlockingIOError:
                continue
            except OSError:
                return
            threading.Thread(target=handler, args=(conn,), daemon=True).start()


def with_a_lambda_and_a_default_argument(listener, handler):
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        # c=conn is evaluated now, in the loop: each thread keeps its own caller's line.
        threading.Thread(target=lambda c=conn: handler(c), daemon=True).start()


class HandlerThread(threading.Thread):
    def __init__(self, handler, conn):
        super().__init__(daemon=True)
        self.handler, self.conn = handler, conn

    def run(self):
        self.handler(self.conn)


def with_a_thread_subclass(listener, handler):
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        HandlerThread(handler, conn).start()


CORRECT = [
    with_a_lambda_and_a_default_argument,
    with_a_thread_subclass,
    with_daemon_threads,
    with_plain_threads_closing_conn,
    with_a_big_pool,
    with_joined_threads_at_the_end,
    with_a_polling_timeout,
    with_a_selector,
]


@pytest.mark.parametrize("serve_many", CORRECT, ids=[f.__name__ for f in CORRECT])
def test_every_correct_way_passes_quickly(serve_many, capfd):
    started = time.monotonic()
    report = EXERCISE.run(serve_many)
    elapsed = time.monotonic() - started
    assert report.passed, str(report)
    assert elapsed < 3.0, f"a correct solution took {elapsed:.2f} s"
    out, err = capfd.readouterr()
    assert err == ""


def test_stub_fails_every_check_at_once():
    def serve_many(listener, handler):
        raise NotImplementedError("Write serve_many: accept callers and serve each in a thread")

    started = time.monotonic()
    report = EXERCISE.run(serve_many)
    assert time.monotonic() - started < 0.5
    assert report.score == 0
    assert all(r.message.startswith("not written yet") for r in report.results)


def _new_threads(before, timeout=3.0):
    """Threads alive now that were not in ``before``, once they had ``timeout`` to end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = [t for t in threading.enumerate() if t not in before]
        if not new:
            return []
        time.sleep(0.01)  # bounded poll: thread endings cannot be waited on as a group
    return [t for t in threading.enumerate() if t not in before]


def test_a_serve_many_that_never_returns_is_stopped_after_the_check(capfd):
    spins = []

    def serve_many(listener, handler):
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                spins.append(1)
                continue
            threading.Thread(target=handler, args=(conn,), daemon=True).start()

    before = set(threading.enumerate())
    hook = threading.excepthook
    report = EXERCISE.run(serve_many)
    assert not report.passed
    assert "did not return within" in str(report)
    assert _new_threads(before) == [], "the spinning serve_many thread is still alive"
    assert threading.excepthook is hook
    assert capfd.readouterr().err == ""


def test_one_at_a_time_leaves_no_thread_behind():
    def serve_many(listener, handler):
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            handler(conn)

    before = set(threading.enumerate())
    report = EXERCISE.run(serve_many)
    assert "not answered while the first was still on the line" in str(report)
    assert _new_threads(before) == []


def test_exceptions_in_learner_threads_go_to_the_report_not_stderr(capfd):
    def serve_many(listener, handler):
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handler, args=(conn, "extra", "more")).start()

    hook = threading.excepthook
    report = EXERCISE.run(serve_many)
    assert "handler was called with 3 arguments" in str(report)
    assert threading.excepthook is hook
    assert capfd.readouterr().err == ""


def test_report_text_is_the_same_every_run():
    def serve_many(listener, handler):
        while True:
            conn, _ = listener.accept()  # raises once the listener is shut down
            threading.Thread(target=handler, args=(listener,), daemon=True).start()

    first, second = str(EXERCISE.run(serve_many)), str(EXERCISE.run(serve_many))
    assert first == second
    assert "handler was given the listening socket" in first
    assert "127.0.0.1" not in first


def late_lambda(listener, handler):
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=lambda: handler(conn), daemon=True).start()


def late_inner_function(listener, handler):
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return

        def serve():
            handler(conn)  # conn is looked up when serve() runs, not when it was defined

        threading.Thread(target=serve, daemon=True).start()


def late_lambda_in_a_pool(listener, handler):
    with ThreadPoolExecutor(max_workers=64) as pool:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            pool.submit(lambda: handler(conn))


@pytest.mark.parametrize("serve_many", [late_lambda, late_inner_function, late_lambda_in_a_pool])
def test_a_thread_that_reads_conn_late_fails_every_time(serve_many, capfd):
    """The late-binding bug usually hides (the new thread is quicker than the next
    accept()); the check holds each started thread until the next one is started, so it
    is caught on every run, quickly, and Thread.start is put back afterwards."""
    original_start = threading.Thread.start
    for _ in range(5):
        started = time.monotonic()
        report = EXERCISE.run(serve_many)
        assert time.monotonic() - started < 3.0
        right_line = [r for r in report.results if r.name.startswith("gives handler the line")][0]
        assert not right_line.passed
        assert "same caller's line twice" in right_line.message
    assert threading.Thread.start is original_start
    out, err = capfd.readouterr()
    assert err == ""
