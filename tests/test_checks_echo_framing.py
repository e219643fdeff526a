"""The checks of lessons 03 and 04 judge fairly beyond the shared variant test: every
correct solution passes however it is written, correct solutions run fast, stubs fail
at once, and reports never show a port, an address or a timing."""

import re
import time

import pytest
from course import load_definition, solution_source

from tcplessons.exercises import get_exercise
from tcplessons.exercises.tools import PAUSE

IDS = ["handle_echo", "echo_client", "LineReader", "send_message", "recv_message"]

# Correct solutions written in other styles than the reference ones.
OTHER_CORRECT = {
    "handle_echo": {
        "iter_and_close": """
def handle_echo(conn):
    for data in iter(lambda: conn.recv(1024), b""):
        conn.sendall(data)
    conn.close()
""",
        "makefile_read1": """
def handle_echo(conn):
    with conn, conn.makefile("rb") as stream:
        while chunk := stream.read1(4096):
            conn.sendall(chunk)
""",
        "recv_into_and_errors": """
def handle_echo(conn):
    buffer = bytearray(65536)
    try:
        while n := conn.recv_into(buffer):
            conn.sendall(memoryview(buffer)[:n])
    except ConnectionError:
        pass  # the caller vanished: nothing left to echo
    finally:
        conn.close()
""",
    },
    "echo_client": {
        "makefile": """
import socket

def echo_client(address, message):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(address)
    with sock, sock.makefile("rb") as replies:
        sock.sendall(message.encode("utf-8"))
        sock.shutdown(socket.SHUT_WR)
        return replies.read().decode("utf-8")
""",
        "incremental_decoder": """
import codecs
import socket

def echo_client(address, message):
    decoder = codecs.getincrementaldecoder("utf-8")()
    parts = []
    with socket.create_connection(address) as sock:
        sock.sendall(message.encode("utf-8"))
        sock.shutdown(socket.SHUT_WR)
        while data := sock.recv(100):
            parts.append(decoder.decode(data))
    parts.append(decoder.decode(b"", final=True))
    return "".join(parts)
""",
    },
    "LineReader": {
        "bytes_first": """
class LineReader:
    def __init__(self):
        self.buffer = bytearray()

    def feed(self, data):
        if not data:
            rest, self.buffer = bytes(self.buffer), bytearray()
            return [rest.decode("utf-8", "replace")] if rest else []
        self.buffer += data
        lines = []
        while (end := self.buffer.find(b"\\n")) >= 0:
            line = bytes(self.buffer[:end])
            del self.buffer[: end + 1]
            lines.append(line.removesuffix(b"\\r").decode("utf-8", "replace"))
        return lines
""",
        "splitlines_keepends": """
import codecs

class LineReader:
    def __init__(self):
        self._decode = codecs.getincrementaldecoder("utf-8")("replace").decode
        self._text = ""

    def feed(self, data):
        self._text += self._decode(data, final=not data)
        if not data:
            last, self._text = self._text, ""
            return [last] if last else []
        done = []
        while "\\n" in self._text:
            line, self._text = self._text.split("\\n", 1)
            done.append(line[:-1] if line.endswith("\\r") else line)
        return done
""",
        "course_linesplitter": """
from tcplessons import LineSplitter

class LineReader:
    def __init__(self):
        self.lines = LineSplitter(max_line=10_000_000)

    def feed(self, data):
        return self.lines.feed(data)
""",
    },
    "send_message": {
        "two_sendalls": """
def send_message(sock, text):
    data = text.encode("utf-8")
    sock.sendall(len(data).to_bytes(4, "big"))
    sock.sendall(data)
""",
        "send_loop": """
import struct

def send_message(sock, text):
    data = text.encode()
    wire = memoryview(struct.pack("!I", len(data)) + data)
    while wire:
        wire = wire[sock.send(wire):]
""",
        "course_frame": """
from tcplessons import send_frame

def send_message(sock, text):
    send_frame(sock, text)
""",
    },
    "recv_message": {
        "msg_waitall": """
import socket
import struct

def recv_message(sock):
    header = sock.recv(4, socket.MSG_WAITALL)
    if len(header) < 4:
        raise EOFError("hung up during the length")
    (n,) = struct.unpack("!I", header)
    body = sock.recv(n, socket.MSG_WAITALL) if n else b""
    if len(body) < n:
        raise EOFError("hung up during the message")
    return body.decode()
""",
        "recv_into": """
def recv_message(sock):
    def exactly(n):
        buffer = bytearray(n)
        view, got = memoryview(buffer), 0
        while got < n:
            k = sock.recv_into(view[got:], n - got)
            if k == 0:
                raise EOFError("the caller hung up")
            got += k
        return bytes(buffer)

    return exactly(int.from_bytes(exactly(4), "big")).decode("utf-8")
""",
        "course_frame": """
from tcplessons import recv_frame

def recv_message(sock):
    return recv_frame(sock)
""",
    },
}
CASES = [(name, style) for name, styles in OTHER_CORRECT.items() for style in styles]


@pytest.mark.parametrize("name,style", CASES, ids=[f"{n}/{s}" for n, s in CASES])
def test_other_correct_solutions_pass(name, style):
    obj, _ = load_definition(OTHER_CORRECT[name][style], name, f"{name}/{style}")
    report = get_exercise(name).run(obj)
    assert report.passed, str(report)


@pytest.mark.parametrize("name", IDS)
def test_reference_solution_runs_well_under_three_seconds(name):
    obj, _ = load_definition(solution_source(name), name)
    started = time.monotonic()
    report = get_exercise(name).run(obj)
    elapsed = time.monotonic() - started
    assert report.passed, str(report)
    # Apart from the deliberate mid-stream pauses (one check each), it is quick.
    pauses = sum("pause" in check.name for check in get_exercise(name).checks)
    assert elapsed < 1.5 + pauses * PAUSE, f"{name}: {elapsed:.2f} s"


STUB = {
    "LineReader": 'class LineReader:\n    def feed(self, data):\n        raise NotImplementedError("stub")\n',
}


@pytest.mark.parametrize("name", IDS)
def test_stub_fails_every_check_at_once(name):
    source = STUB.get(name, f'def {name}(*args):\n    raise NotImplementedError("stub")\n')
    obj, _ = load_definition(source, name)
    started = time.monotonic()
    report = get_exercise(name).run(obj)
    assert time.monotonic() - started < 0.5
    assert report.score == 0 and all("not written yet" in r.message for r in report.results)


# An address, a port, a memory address, or a measured duration (fixed limits such as
# "within 1.5 s" are fine: they read the same on every run).
PORTISH = re.compile(r"127\.0\.0\.1|localhost|\bport\b|0x[0-9a-f]{6,}|\d+\.\d{3,}")


def test_reports_of_wrong_answers_show_no_ports_addresses_or_timings():
    wrong = {
        "handle_echo": "def handle_echo(conn):\n    with conn:\n        conn.sendall(conn.recv(1024).upper())\n",
        "echo_client": "def echo_client(address, message):\n    return message.upper()\n",
        "LineReader": "class LineReader:\n    def feed(self, data):\n        return [data.decode()]\n",
        "send_message": "def send_message(sock, text):\n    sock.sendall(text.encode())\n",
        "recv_message": "def recv_message(sock):\n    return sock.recv(4096).decode('utf-8', 'replace')\n",
    }
    for name, source in wrong.items():
        obj, _ = load_definition(source, name)
        text = str(get_exercise(name).run(obj))
        assert "FAIL" in text
        leaks = [m.group(0) for m in PORTISH.finditer(text)]
        assert not leaks, (name, leaks, text)


def test_exception_names_in_recv_message_reports():
    """struct's error is shown as struct.error, and an exception without a message gets
    no trailing colon."""
    import struct

    from tcplessons.exercises.recv_message import _exception_text

    try:
        struct.unpack(">I", b"\x00")
    except struct.error as exc:
        assert _exception_text(exc).startswith("struct.error: unpack requires")
    assert _exception_text(EOFError()) == "EOFError"
    assert _exception_text(EOFError("hung up")) == "EOFError: hung up"
