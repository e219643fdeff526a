"""tcplessons.explain() and the exception hook: the glossary is right, every glossary
error raised in a real kernel gets its one extra line under an unchanged traceback, and
other errors get none."""

import errno
import os
import re
import socket
import sys

import nbformat
import pytest
from nbclient import NotebookClient

import tcplessons
from tcplessons.glossary import GLOSSARY, entry_for

ENTRIES = {entry.key: entry for entry in GLOSSARY}

# Code that raises each glossary error in a kernel: live on loopback where it can be,
# otherwise the OSError the system would raise (same class, errno and text).
PRELUDE = """
import errno, os, socket
import tcplessons
from tcplessons import closed_port, reset_close, silent_listener
listener = socket.create_server(("127.0.0.1", 0))
def os_error(name):
    number = getattr(errno, name)
    raise OSError(number, os.strerror(number))
"""
RAISE = {
    "refused": "with closed_port() as nobody:\n    socket.create_connection(nobody, timeout=5)",
    "address-in-use": "socket.socket().bind(listener.getsockname())",
    "cannot-assign": "socket.socket().bind(('192.0.2.1', 0))",
    "low-port": "os_error('EACCES')",
    "reset": (
        "caller = socket.create_connection(listener.getsockname(), timeout=5)\n"
        "answerer, _ = listener.accept()\n"
        "reset_close(caller)\n"
        "answerer.settimeout(5)\n"
        "answerer.recv(1)"
    ),
    "broken-pipe": (
        "caller = socket.create_connection(listener.getsockname(), timeout=5)\n"
        "listener.accept()[0].close()\n"
        "caller.recv(1)\n"
        "for _ in range(1000):\n"
        "    caller.send(b'x')"
    ),
    "aborted": "os_error('ECONNABORTED')",
    "timeout": (
        "with silent_listener() as silent:\n"
        "    socket.create_connection(silent.address, timeout=0.3)"
    ),
    "os-timeout": "os_error('ETIMEDOUT')",
    "not-connected": "socket.socket().recv(1)",
    "bad-descriptor": "gone = socket.socket()\ngone.close()\ngone.recv(1)",
    "would-block": (
        "eager = socket.create_connection(listener.getsockname())\n"
        "eager.setblocking(False)\n"
        "eager.recv(1)"
    ),
    "in-progress": (
        "dialling = socket.socket()\n"
        "dialling.setblocking(False)\n"
        "dialling.connect(listener.getsockname())"
    ),
    "unreachable": "os_error('ENETUNREACH')",
    "unknown-name": "socket.getaddrinfo('x', 80, flags=socket.AI_NUMERICHOST)",
    "address-family": "socket.socket(socket.AF_INET).connect(('::1', 80))",
}
NOT_SOCKET = {
    "ZeroDivisionError": "1 / 0",
    "FileNotFoundError": "open('/no/such/file/anywhere')",
    "PermissionError on a file": "raise PermissionError(errno.EACCES, 'Denied', 'x.txt')",
    "KeyError": "{}['missing']",
}
LINE_PREFIX = "[tcplessons] "


def test_every_glossary_entry_is_raised_by_the_kernel_test():
    assert set(RAISE) == set(ENTRIES)


def stream_text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def error_of(cell):
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert len(errors) == 1, cell.outputs
    return errors[0]


def plain_traceback(output) -> str:
    """The traceback without colours and execution counts (they differ between cells)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(output.traceback))
    return re.sub(r"In\[\d+\]", "In[N]", text)


@pytest.fixture(scope="module")
def kernel_run():
    nb = nbformat.v4.new_notebook()
    sources = [PRELUDE, "tcplessons.explain_errors()"]
    sources += [RAISE[key] for key in RAISE]
    sources += list(NOT_SOCKET.values())
    sources += ["print(tcplessons.explain())"]
    # The same refusal with the hook off, then on again: the traceback must not change.
    sources += [
        "tcplessons.explain_errors(False)",
        RAISE["refused"],
        "tcplessons.explain_errors()",
        RAISE["refused"],
    ]
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True).execute()
    cells = nb.cells[2:]
    raised = dict(zip(RAISE, cells[: len(RAISE)], strict=True))
    rest = cells[len(RAISE) :]
    not_socket = dict(zip(NOT_SOCKET, rest[: len(NOT_SOCKET)], strict=True))
    explained, _, off, _, on = rest[len(NOT_SOCKET) :]
    return raised, not_socket, explained, off, on


@pytest.mark.parametrize("key", list(RAISE))
def test_a_socket_error_gets_one_line_under_its_traceback(kernel_run, key):
    cell = kernel_run[0][key]
    entry = ENTRIES[key]
    error = error_of(cell)
    assert error.ename == entry.python_class.split(".")[-1], (error.ename, error.evalue)
    # The line comes after the error, and is the only thing printed.
    kinds = [o.output_type for o in cell.outputs]
    assert kinds == ["error", "stream"], kinds
    assert stream_text(cell) == entry.line() + "\n"


@pytest.mark.parametrize("name", list(NOT_SOCKET))
def test_other_errors_get_no_line(kernel_run, name):
    cell = kernel_run[1][name]
    error_of(cell)
    assert LINE_PREFIX not in stream_text(cell)


def test_explain_without_argument_explains_the_last_error(kernel_run):
    text = stream_text(kernel_run[2])
    assert text.startswith("KeyError: 'missing'"), text
    assert "not a socket error" in text


def test_switched_off_no_line_and_the_traceback_is_unchanged(kernel_run):
    off, on = kernel_run[3], kernel_run[4]
    assert LINE_PREFIX not in stream_text(off)
    assert stream_text(on) == ENTRIES["refused"].line() + "\n"
    assert plain_traceback(error_of(off)) == plain_traceback(error_of(on))


# --- explain() and the glossary, without a kernel ----------------------------------------


def test_explain_a_refusal():
    with tcplessons.closed_port() as nobody:
        with pytest.raises(ConnectionRefusedError) as caught:
            socket.create_connection(nobody, timeout=5)
    text = tcplessons.explain(caught.value)
    assert text.splitlines()[1] == "ConnectionRefusedError (ECONNREFUSED)"
    assert "Windows: [WinError 10061] No connection could be made" in text
    assert "01-doorbell-listener" in text
    assert repr(text) == str(text)  # shows as itself as a cell's last line


def test_explain_a_timeout_says_it_has_no_errno():
    text = tcplessons.explain(TimeoutError("timed out"))
    assert "TimeoutError (no errno)" in text


def test_explain_other_errors_and_non_errors():
    assert "not a socket error" in tcplessons.explain(ValueError("x"))
    assert "not a socket error" in tcplessons.explain(FileNotFoundError(2, "No such file", "f"))
    with pytest.raises(TypeError):
        tcplessons.explain("not an exception")


def test_explain_without_an_error_yet(monkeypatch):
    for name in ("last_exc", "last_value"):
        monkeypatch.delattr(sys, name, raising=False)
    assert "No error has been raised yet" in tcplessons.explain()


def test_explain_errors_is_a_no_op_outside_ipython():
    assert tcplessons.explain_errors() is None
    assert tcplessons.explain_errors(False) is None


def test_entry_for_uses_errno_not_only_the_class():
    assert entry_for(OSError(errno.EADDRINUSE, "x")).key == "address-in-use"
    assert entry_for(OSError(errno.ETIMEDOUT, "x")).key == "os-timeout"
    assert entry_for(TimeoutError("timed out")).key == "timeout"
    assert entry_for(socket.gaierror(socket.EAI_NONAME, "x")).key == "unknown-name"
    if hasattr(socket, "EAI_ADDRFAMILY"):
        family_error = socket.gaierror(socket.EAI_ADDRFAMILY, "x")
        assert entry_for(family_error).key == "address-family"
    assert entry_for(OSError(errno.ENOENT, "x")) is None
    assert entry_for(PermissionError(errno.EACCES, "x", "file.txt")) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="checks the Linux texts")
@pytest.mark.parametrize("entry", [e for e in GLOSSARY if e.errno_names], ids=lambda e: e.key)
def test_linux_texts_are_what_linux_says(entry):
    number = getattr(errno, entry.errno_name)
    assert entry.linux == f"[Errno {number}] {os.strerror(number)}"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="checks the Linux texts")
def test_linux_text_of_an_unknown_name():
    with pytest.raises(socket.gaierror) as caught:
        socket.getaddrinfo("x", 80, flags=socket.AI_NUMERICHOST)
    assert ENTRIES["unknown-name"].linux == str(caught.value)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="checks the Linux texts")
def test_linux_text_of_an_address_of_the_other_family():
    with pytest.raises(socket.gaierror) as caught:
        socket.socket(socket.AF_INET).connect(("::1", 80))
    assert ENTRIES["address-family"].linux == str(caught.value)


def test_every_entry_names_a_lesson_and_fits_on_one_line():
    for entry in GLOSSARY:
        assert re.fullmatch(r"\d\d-[a-z0-9-]+", entry.lesson), entry
        assert "\n" not in entry.line() and len(entry.line()) < 160, entry.line()


def test_the_glossary_table_shows_every_entry():
    table = tcplessons.error_glossary()._repr_html_()
    for entry in GLOSSARY:
        assert entry.windows.split("]")[0] in table
