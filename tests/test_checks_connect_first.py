"""connect_first's checks accept every correct way to write it (create_connection per
candidate, an explicit socket(family) + connect loop, families from getaddrinfo), and
give the same verdicts on every run.  The reference solution and the buggy variants are
run by test_exercise_variants.py."""

import pytest
from course import buggy_variants, load_definition, solution_source

from tcplessons.exercises import get_exercise

CREATE_CONNECTION = """
import socket

def connect_first(candidates, timeout):
    errors = []
    for address in candidates:
        try:
            sock = socket.create_connection(address[:2], timeout=timeout)
        except OSError as exc:
            errors.append(f"{address[0]} port {address[1]}: {exc}")
            continue
        sock.settimeout(None)
        return sock
    raise ConnectionError("\\n".join(errors))
"""

GETADDRINFO = """
import socket

def connect_first(candidates, timeout):
    problems = []
    for address in candidates:
        host, port = address[:2]
        try:
            family, kind, proto, _, where = socket.getaddrinfo(
                host, port, type=socket.SOCK_STREAM)[0]
            with socket.socket(family, kind, proto) as attempt:
                attempt.settimeout(timeout)
                attempt.connect(where)
                attempt.setblocking(True)
                return attempt.dup()
        except OSError as exc:
            problems.append("could not reach %s:%s (%r)" % (host, port, exc))
    raise ConnectionError("\\n".join(problems))
"""

WITH_BLOCK = """
import contextlib
import socket

def connect_first(candidates, timeout):
    report = []
    for address in candidates:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        with contextlib.ExitStack() as cleanup:
            cleanup.callback(sock.close)
            sock.settimeout(timeout)
            try:
                sock.connect(address)
            except (ConnectionError, TimeoutError, OSError) as exc:
                report.append(f"{address} -> {type(exc).__name__}: {exc}")
                continue
            cleanup.pop_all()
        sock.setblocking(True)
        return sock
    raise ConnectionError("all candidates failed:\\n" + "\\n".join(report))
"""

ACCEPTED = {
    "create_connection": CREATE_CONNECTION,
    "getaddrinfo": GETADDRINFO,
    "with_block": WITH_BLOCK,
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_correct_ways_pass(name):
    fn, _ = load_definition(ACCEPTED[name], "connect_first", f"<{name}>")
    report = get_exercise("connect_first").run(fn)
    assert report.passed, str(report)


@pytest.mark.parametrize("path", buggy_variants("connect_first"), ids=lambda p: p.stem)
def test_verdicts_are_the_same_on_every_run(path):
    fn, _ = load_definition(path.read_text(), "connect_first", str(path))
    exercise = get_exercise("connect_first")
    reports = [str(exercise.run(fn)) for _ in range(5)]
    assert all(report == reports[0] for report in reports), reports


def test_reference_passes_five_times_in_a_row():
    fn, _ = load_definition(solution_source("connect_first"), "connect_first")
    for _ in range(5):
        report = get_exercise("connect_first").run(fn)
        assert report.passed, str(report)


def test_without_ipv6_the_ipv6_parts_are_skipped_not_passed(monkeypatch):
    from tcplessons.exercises import connecting, connecting_failures

    monkeypatch.setattr(connecting, "has_ipv6_loopback", lambda: False)
    monkeypatch.setattr(connecting_failures, "has_ipv6_loopback", lambda: False)
    fn, _ = load_definition(solution_source("connect_first"), "connect_first")
    report = get_exercise("connect_first").run(fn)
    text = str(report)
    assert report.passed, text
    assert (
        "  [skip] connects to an IPv6 candidate (::1) as well as IPv4 (this computer has no ::1)"
        in text
    )
    assert report.max_score == len(report.results) - 1
    assert f"all {report.max_score} checks passed" in text


def test_where_no_address_stays_silent_the_silent_checks_are_skipped(monkeypatch):
    from tcplessons import loopback

    monkeypatch.setattr(loopback.sys, "platform", "win32")
    fn, _ = load_definition(solution_source("connect_first"), "connect_first")
    report = get_exercise("connect_first").run(fn)
    skipped = [r.name for r in report.results if r.skipped]
    assert len(skipped) == 3, str(report)
    assert all("timeout" in name or "timed out" in name for name in skipped)
    assert report.passed and report.max_score == len(report.results) - 3, str(report)


def test_stub_gets_no_pass_from_skips(monkeypatch):
    from tcplessons.exercises import connecting, connecting_failures

    monkeypatch.setattr(connecting, "has_ipv6_loopback", lambda: False)
    monkeypatch.setattr(connecting_failures, "has_ipv6_loopback", lambda: False)

    def connect_first(candidates, timeout):
        raise NotImplementedError("write connect_first")

    report = get_exercise("connect_first").run(connect_first)
    assert report.score == 0 and not report.passed, str(report)


def test_default_timeout_is_put_back_after_a_solution_changed_it():
    import socket

    source = solution_source("connect_first").replace(
        "    errors = []", "    socket.setdefaulttimeout(timeout)\n    errors = []", 1
    )
    fn, _ = load_definition(source, "connect_first")
    report = get_exercise("connect_first").run(fn)
    assert socket.getdefaulttimeout() is None
    assert "socket.setdefaulttimeout()" in str(report)


def test_connect_watch_records_the_timeout_of_each_attempt():
    import socket
    import threading

    from tcplessons.exercises.connect_watch import watching_connects

    with (
        socket.create_server(("127.0.0.1", 0)) as listener,
        watching_connects() as calls,
    ):
        address = listener.getsockname()
        with socket.create_connection(address, timeout=1.5):
            pass
    mine = [c for c in calls if c.thread == threading.get_ident()]
    assert [(c.address, c.timeout) for c in mine] == [(address, 1.5)]
    assert "connect" not in socket.socket.__dict__
