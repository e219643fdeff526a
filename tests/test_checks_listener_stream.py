"""The checks of open_doorbell, recv_exactly and recv_all are fair and quick.

The shared variant test proves the reference solutions pass and the kept buggy variants
fail.  Here: other *correct* ways of writing the same thing pass too (create_server,
recv_into, MSG_WAITALL, iter(..., b""), makefile), a whole exercise runs in well under
3 s, failure reports read the same on every run, and the checks leave no socket open.
"""

import gc
import os
import socket
import sys
import time

import pytest
from course import BUGGY, buggy_variants, load_definition, solution_source

from tcplessons.exercises import get_exercise
from tcplessons.exercises.tools import PAUSE

# --- other correct solutions, as learners write them ------------------------------------

DOORBELLS = {
    "create_server": """
import socket
def open_doorbell():
    return socket.create_server(("127.0.0.1", 0))
""",
    "reuseaddr_and_backlog": """
import socket
def open_doorbell():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(5)
    return s
""",
}

EXACTLY = {
    "bytearray_recv_into": """
def recv_exactly(sock, n):
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            raise EOFError("hung up")
        got += k
    return bytes(buf)
""",
    "msg_waitall": """
import socket
def recv_exactly(sock, n):
    if n == 0:
        return b""
    data = sock.recv(n, socket.MSG_WAITALL)
    if len(data) < n:
        raise EOFError("hung up")
    return data
""",
    "bytes_concatenation": """
def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        more = sock.recv(n - len(data))
        if more == b"":
            raise EOFError
        data += more
    return data
""",
    "unbuffered_makefile": """
def recv_exactly(sock, n):
    f = sock.makefile("rb", buffering=0)
    data = b""
    while len(data) < n:
        more = f.read(n - len(data))
        if not more:
            raise EOFError
        data += more
    return data
""",
    "eoferror_subclass": """
class HungUp(EOFError):
    pass
def recv_exactly(sock, n):
    parts, have = [], 0
    while have < n:
        part = sock.recv(min(n - have, 65536))
        if not part:
            raise HungUp(f"after {have} bytes")
        parts.append(part)
        have += len(part)
    return b"".join(parts)
""",
}

ALL = {
    "iter_sentinel": """
from functools import partial
def recv_all(sock):
    return b"".join(iter(partial(sock.recv, 4096), b""))
""",
    "makefile_read": """
def recv_all(sock):
    with sock.makefile("rb") as f:
        return f.read()
""",
    "bytearray_recv_into": """
def recv_all(sock):
    buf = bytearray()
    chunk = bytearray(65536)
    while True:
        n = sock.recv_into(chunk)
        if not n:
            return bytes(buf)
        buf += chunk[:n]
""",
    "walrus": """
def recv_all(sock):
    data = b""
    while chunk := sock.recv(1024):
        data += chunk
    return data
""",
}

ALTERNATIVES = (
    [("open_doorbell", k, v) for k, v in DOORBELLS.items()]
    + [("recv_exactly", k, v) for k, v in EXACTLY.items()]
    + [("recv_all", k, v) for k, v in ALL.items()]
)
NAMES = ["open_doorbell", "recv_exactly", "recv_all"]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize(
    "name,label,source", ALTERNATIVES, ids=[f"{n}/{k}" for n, k, _ in ALTERNATIVES]
)
def test_other_correct_solutions_pass(name, label, source):
    obj, _ = load_definition(source, name, label)
    report = get_exercise(name).run(obj)
    assert report.passed, str(report)


@pytest.mark.parametrize("name", NAMES)
def test_reference_solution_runs_in_well_under_three_seconds(name):
    obj, _ = load_definition(solution_source(name), name)
    start = time.perf_counter()
    report = get_exercise(name).run(obj)
    elapsed = time.perf_counter() - start
    assert report.passed, str(report)
    # Apart from the deliberate mid-stream pauses (one check each), it is quick.
    pauses = sum("pause" in check.name for check in get_exercise(name).checks)
    assert elapsed < 1.5 + pauses * PAUSE, f"{name}: {elapsed:.2f} s"


@pytest.mark.parametrize("name", NAMES)
def test_a_stub_fails_every_check_at_once(name):
    def stub(*args):
        raise NotImplementedError("Write it")

    start = time.perf_counter()
    report = get_exercise(name).run(stub)
    assert time.perf_counter() - start < 0.5
    assert report.score == 0 and report.max_score >= 5
    assert all(r.message.startswith("not written yet") for r in report.results)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts /proc/self/fd")
@pytest.mark.parametrize("name", NAMES)
def test_checks_close_every_socket_they_open(name):
    candidates = [solution_source(name)] + [p.read_text() for p in buggy_variants(name)]
    # Skip variants that loop forever: their thread may still hold the socket a moment.
    candidates = [
        c
        for c in candidates
        if "spins forever" not in c and "keeps running after the check" not in c
    ]
    exercise = get_exercise(name)
    obj, _ = load_definition(candidates[0], name)
    exercise.run(obj)  # warm up: imports and lazily opened files
    before = open_fds()
    for source in candidates:
        obj, _ = load_definition(source, name)
        exercise.run(obj)
    gc.collect()  # a socket a learner's code dropped on the floor is closed by collection
    assert open_fds() <= before


@pytest.mark.parametrize("name", NAMES)
def test_failure_reports_read_the_same_every_run(name):
    for path in buggy_variants(name):
        if "forever" in path.stem:
            continue  # takes a second per check; its text is covered by the variant test
        # Loaded afresh for each run, as when a learner re-runs the exercise cell: a
        # variant may keep state between calls (one socket for every call).
        first, second = (
            str(get_exercise(name).run(load_definition(path.read_text(), name, str(path))[0]))
            for _ in range(2)
        )
        assert first == second, path.name
        assert "127.0.0.1:" not in first and "Errno 9]" not in first


def test_a_fixed_port_someone_else_holds_fails_with_the_port_hint():
    """A fixed port collides with whatever already listens there (a real Redis, a
    classmate): every check must say so, not crash.  The "someone else" here is our own
    listener on a port the operating system picked."""
    with socket.create_server(("127.0.0.1", 0)) as squatter:
        port = squatter.getsockname()[1]
        source = f"""
import socket
def open_doorbell():
    sock = socket.socket()
    sock.bind(("127.0.0.1", {port}))
    sock.listen()
    return sock
"""
        obj, _ = load_definition(source, "open_doorbell")
        report = get_exercise("open_doorbell").run(obj)
    assert report.score == 0
    first, *others = (r.message for r in report.results)
    assert "Address already in use" in first and "port 0" in first, str(report)
    same = "open_doorbell() bound its socket to a port it chose itself — the same problem as above"
    assert all(m == same for m in others), str(report)


# --- one mistake, one explanation ---------------------------------------------------------


def test_returning_the_address_is_explained_once_then_called_the_same_problem():
    obj, _ = load_definition(
        (BUGGY / "open_doorbell" / "returns_address.py").read_text(), "open_doorbell"
    )
    for _ in range(2):  # a second run of the same function explains it again
        results = get_exercise("open_doorbell").run(obj).results
        assert not any(r.passed for r in results)
        assert "hint: return the socket" in results[0].message
        assert all(r.message.endswith("the same problem as above") for r in results[1:]), results
        assert all("\n" not in r.message for r in results[1:])


def test_one_socket_for_every_call_is_told_to_make_a_new_socket_not_about_with_blocks():
    obj, _ = load_definition(
        (BUGGY / "open_doorbell" / "one_socket_for_every_call.py").read_text(), "open_doorbell"
    )
    report = str(get_exercise("open_doorbell").run(obj))
    assert "each call must make a new socket" in report
    assert "`with` block" not in report


def test_a_bytearray_is_explained_once_then_called_the_same_problem():
    obj, _ = load_definition(
        (BUGGY / "recv_exactly" / "returns_bytearray.py").read_text(), "recv_exactly"
    )
    failed = [r for r in get_exercise("recv_exactly").run(obj).results if not r.passed]
    assert "hint: convert it before returning: return bytes(buf)" in failed[0].message
    assert len(failed) > 1
    assert all(
        r.message.endswith("the same problem as above") and "\n" not in r.message
        for r in failed[1:]
    )


# --- recv_all's 2 MB: slow but steady passes, ignoring b"" fails fast ---------------------


def _large_check(name="recv_all"):
    """The check that streams 1 MB (recv_exactly) or 2 MB (recv_all)."""
    (check,) = [c for c in get_exercise(name).checks if " MB " in c.name]
    return check


def test_reading_one_byte_at_a_time_into_a_list_is_slow_but_correct():
    source = """
def recv_all(sock):
    pieces = []
    while True:
        byte = sock.recv(1)
        if byte == b"":
            return b"".join(pieces)
        pieces.append(byte)
"""
    obj, _ = load_definition(source, "recv_all")
    _large_check().run(obj)  # raises CheckFailed if judged too slow


def test_ignoring_the_hang_up_fails_the_large_check_about_a_second_after_the_last_byte():
    from tcplessons.exercises.model import CheckFailed
    from tcplessons.exercises.stream import EOF_TIMEOUT

    obj, _ = load_definition(
        (BUGGY / "recv_all" / "loops_forever_on_hang_up.py").read_text(), "recv_all"
    )
    start = time.perf_counter()
    with pytest.raises(CheckFailed, match="did not return"):
        _large_check().run(obj)
    assert time.perf_counter() - start < EOF_TIMEOUT + 1.5


def test_recv_exactly_one_byte_at_a_time_into_a_list_is_slow_but_correct():
    source = """
def recv_exactly(sock, n):
    pieces = []
    for _ in range(n):
        byte = sock.recv(1)
        if not byte:
            raise EOFError
        pieces.append(byte)
    return b"".join(pieces)
"""
    obj, _ = load_definition(source, "recv_exactly")
    _large_check("recv_exactly").run(obj)  # 1 MB; raises CheckFailed if judged too slow


def test_a_reader_that_stops_reading_fails_when_the_stall_limit_is_reached():
    import threading

    from tcplessons.exercises.model import CheckFailed
    from tcplessons.exercises.stream import STALL_TIMEOUT

    released = threading.Event()

    def recv_all(sock):
        first = sock.recv(100)
        released.wait(STALL_TIMEOUT + 3)  # stops reading (bounded, so the thread ends)
        return first

    start = time.perf_counter()
    try:
        with pytest.raises(CheckFailed, match="stopped reading"):
            _large_check().run(recv_all)
    finally:
        released.set()
    assert time.perf_counter() - start < STALL_TIMEOUT + 1.5
