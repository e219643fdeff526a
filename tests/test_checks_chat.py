"""The ChatRoom checks accept every correct room however it is written, fail a stub at
once, and give the same verdict on every run."""

import sys
import threading
import time
from pathlib import Path

import pytest

from tcplessons.exercises import get_exercise

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from course import load_definition  # noqa: E402

EXERCISE = get_exercise("ChatRoom")


class HoldsLockWhileSending:
    """One re-entrant lock around everything, sends included: right lines, but a member who
    stops reading stalls every other call (not accepted any more)."""

    def __init__(self):
        self.lock = threading.RLock()
        self.members = {}

    def _send(self, line, skip=None):
        with self.lock:
            for name, conn in list(self.members.items()):
                if name == skip or name not in self.members:
                    continue
                try:
                    conn.sendall(line.encode())
                except OSError:
                    self.leave(name)

    def join(self, name, conn):
        with self.lock:
            self._send(f"* {name} joined\n")
            self.members[name] = conn

    def leave(self, name):
        with self.lock:
            if name in self.members:
                del self.members[name]
                self._send(f"* {name} left\n")

    def broadcast(self, sender, text):
        self._send(f"{sender}: {text}\n", skip=sender)


class SendLoopAndList:
    """Correct: members in a list of pairs, its own send() loop instead of sendall(),
    one send lock per socket kept in a dict beside the list."""

    def __init__(self):
        self.lock = threading.Lock()
        self.members = []
        self.sending = {}  # socket -> its lock

    def _send_all(self, conn, data):
        with self.lock:
            sending = self.sending.setdefault(conn, threading.Lock())
        with sending:
            view = memoryview(data)
            while view:
                view = view[conn.send(view) :]

    def _tell(self, members, line):
        dead = []
        for name, conn in members:
            try:
                self._send_all(conn, line.encode("utf-8"))
            except OSError:
                dead.append(name)
        for name in dead:
            self.leave(name)

    def join(self, name, conn):
        with self.lock:
            others = list(self.members)
            self.members.append((name, conn))
        self._tell(others, f"* {name} joined\n")

    def leave(self, name):
        with self.lock:
            kept = [(n, c) for n, c in self.members if n != name]
            if len(kept) == len(self.members):
                return
            self.members = kept
            others = list(kept)
        self._tell(others, f"* {name} left\n")

    def broadcast(self, sender, text):
        with self.lock:
            others = [(n, c) for n, c in self.members if n != sender]
        self._tell(others, f"{sender}: {text}\n")


class AnnouncesAfterTheLoop:
    """Correct: collects failures during the loop and announces them afterwards,
    with makefile() writers instead of raw sockets, each member's writes under its lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.members = {}
        self.send_locks = {}

    def _tell(self, line, skip=None):
        with self.lock:
            targets = [
                (n, c, self.send_locks.setdefault(n, threading.Lock()))
                for n, c in self.members.items()
                if n != skip
            ]
        gone = []
        for name, conn, sending in targets:
            try:
                with sending, conn.makefile("wb") as out:
                    out.write(line.encode())
            except OSError:
                gone.append(name)
        for name in gone:
            self.leave(name)

    def join(self, name, conn):
        with self.lock:
            self.members[name] = conn
        self._tell(f"* {name} joined\n", skip=name)

    def leave(self, name):
        with self.lock:
            found = self.members.pop(name, None)
        if found is not None:
            self._tell(f"* {name} left\n")

    def broadcast(self, sender, text):
        self._tell(f"{sender}: {text}\n", skip=sender)


# HoldsLockWhileSending is no longer correct: a member who stops reading stalls every
# other call while the room's lock is held (tests/buggy/ChatRoom/lock_held_while_sending.py).
@pytest.mark.parametrize("room", [SendLoopAndList, AnnouncesAfterTheLoop])
def test_every_correct_room_passes(room):
    report = EXERCISE.run(room)
    assert report.passed, str(report)


def test_reference_solution_is_fast_and_gives_the_same_verdict_every_time():
    obj, _ = load_definition(
        (HERE / "solutions" / "ChatRoom.py").read_text(), "ChatRoom", "solution"
    )
    for _ in range(10):
        started = time.perf_counter()
        report = EXERCISE.run(obj)
        assert report.passed, str(report)
        assert time.perf_counter() - started < 3.0


def test_buggy_variants_give_the_same_message_every_time():
    for path in sorted((HERE / "buggy" / "ChatRoom").glob("*.py")):
        obj, _ = load_definition(path.read_text(), "ChatRoom", str(path))
        first = str(EXERCISE.run(obj))
        for _ in range(4):
            assert str(EXERCISE.run(obj)) == first, path.name


def test_stub_fails_every_check_at_once():
    class ChatRoom:
        def join(self, name, conn):
            raise NotImplementedError("Write ChatRoom")

        leave = broadcast = join

    started = time.perf_counter()
    report = EXERCISE.run(ChatRoom)
    assert report.score == 0 and len(report.results) == len(EXERCISE.checks) >= 12
    assert time.perf_counter() - started < 2.0
