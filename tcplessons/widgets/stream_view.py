"""A stream inspector: what one side wrote, next to what the other side read.

TCP keeps the bytes and their order, never the boundaries between writes.  This view
makes that visible: do the writes and reads through it, then look::

    view = StreamView()                   # columns "client writes" | "server reads"
    view.write(client, b"one ")
    view.write(client, b"two ")
    wait_for_bytes(server, 8)             # both writes have arrived
    view.read(server, 1024)               # one read: b'one two '
    view.show()                           # print the timeline
    display(view.snapshot())              # or show it as a table that stays as it is now

The view is an ``ipywidgets.HTML`` whose text is rebuilt on every write or read (through
one locked path, so a server thread may record too), and :meth:`lines` / :meth:`show`
give the same timeline as plain text, identical on every run.
"""

from __future__ import annotations

import html
import select
import socket
import threading
import time

from ..waiting import pause

try:  # the widget is a nicety: the printed timeline works without ipywidgets
    from ipywidgets import HTML as _HTMLBase
except ImportError:  # pragma: no cover
    _HTMLBase = object  # type: ignore[misc,assignment]

__all__ = ["StreamView", "wait_for_bytes"]

#: Width of the left column in the printed timeline.
COLUMN = 36


def _show(data: bytes, limit: int = 24) -> str:
    text = repr(bytes(data[:limit]))
    return text + "…" if len(data) > limit else text


class StreamSnapshot:
    """A frozen picture of a :class:`StreamView`: a table in JupyterLab, the printed
    timeline as plain text (which is what a notebook test compares)."""

    def __init__(self, text: str, table: str):
        self._text, self._table = text, table

    def _repr_html_(self) -> str:
        return self._table

    def __repr__(self) -> str:
        return self._text


class StreamView(_HTMLBase):
    """Writes on the left, reads on the right, one row per call, in the order they happened.

    Call :meth:`write` and :meth:`read` instead of ``sock.sendall`` and ``sock.recv``
    (they do exactly that, and note it), then :meth:`show` or ``display(view)``.
    """

    def __init__(self, left: str = "client writes", right: str = "server reads", **kwargs):
        if _HTMLBase is not object:
            super().__init__(**kwargs)
        self._titles = (left, right)
        self._rows: list[tuple[int, str]] = []  # (column 0 or 1, text)
        self._lock = threading.Lock()
        self._render()

    # -- doing and noting -----------------------------------------------------------------

    def write(self, sock: socket.socket, data: bytes) -> None:
        """``sock.sendall(data)``, noted in the left column."""
        sock.sendall(data)
        unit = "byte" if len(data) == 1 else "bytes"
        self.note(0, f"sendall {_show(data)}  ({len(data)} {unit})")

    def read(self, sock: socket.socket, bufsize: int) -> bytes:
        """``sock.recv(bufsize)``, noted in the right column; returns what it read."""
        data = sock.recv(bufsize)
        if data:
            unit = "byte" if len(data) == 1 else "bytes"
            self.note(1, f"recv({bufsize}) -> {_show(data)}  ({len(data)} {unit})")
        else:
            self.note(1, f"recv({bufsize}) -> b''  (hung up)")
        return data

    def note(self, column: int, text: str) -> None:
        """Add a row of your own: column 0 is the left side, 1 the right."""
        with self._lock:
            self._rows.append((column, text))
            self._render()

    def clear(self) -> None:
        """Forget every row (to start a new experiment in the same view)."""
        with self._lock:
            self._rows.clear()
            self._render()

    # -- looking --------------------------------------------------------------------------

    def lines(self) -> list[str]:
        """The timeline as text: one row per write or read, left and right columns."""
        with self._lock:
            rows = list(self._rows)
        return self._lines(rows)

    def _lines(self, rows: list[tuple[int, str]]) -> list[str]:
        left, right = self._titles
        out = [f"{left:<{COLUMN}}| {right}", f"{'-' * COLUMN}+{'-' * (len(right) + 1)}"]
        for column, text in rows:
            out.append(f"{text:<{COLUMN}}|" if column == 0 else f"{'':<{COLUMN}}| {text}")
        return [line.rstrip() for line in out]

    def show(self) -> None:
        """Print the timeline (from a cell, in the main thread)."""
        print("\n".join(self.lines()))

    def snapshot(self) -> StreamSnapshot:
        """The timeline as it is now, to ``display()``: later writes and reads on this
        view do not change it, so a cell scrolled back to still shows what it did."""
        with self._lock:
            rows = list(self._rows)
        return StreamSnapshot("\n".join(self._lines(rows)), self._table(rows))

    def _render(self) -> None:
        if _HTMLBase is object:
            return
        self.value = self._table(self._rows)

    def _table(self, rows: list[tuple[int, str]]) -> str:
        left, right = self._titles
        cells = []
        for column, text in rows:
            cell = f"<td style='font-family:monospace;text-align:left'>{html.escape(text)}</td>"
            empty = "<td></td>"
            cells.append(f"<tr>{cell}{empty}</tr>" if column == 0 else f"<tr>{empty}{cell}</tr>")
        return (
            "<table class='tcplessons-stream'>"
            f"<tr><th style='text-align:left'>{html.escape(left)}</th>"
            f"<th style='text-align:left'>{html.escape(right)}</th></tr>"
            + "".join(cells)
            + "</table>"
        )

    def __repr__(self) -> str:  # constant: notebook output must not change run to run
        return "<StreamView>"


def wait_for_bytes(sock: socket.socket, nbytes: int, timeout: float = 5.0) -> int:
    """Wait until at least ``nbytes`` bytes have arrived on ``sock`` (without reading them).

    Returns how many bytes are waiting (fewer than ``nbytes`` only if the peer hung up).
    Raises ``TimeoutError`` after ``timeout`` seconds.  It lets a cell show what one
    ``recv()`` gets once everything is there, instead of hoping with ``sleep()``.
    """
    deadline = time.monotonic() + timeout
    lowat = getattr(socket, "SO_RCVLOWAT", None)
    if lowat is not None:
        try:
            # Ask the kernel to call the socket readable only once nbytes are queued
            # (or the peer hung up): select() then wakes exactly when we want.
            sock.setsockopt(socket.SOL_SOCKET, lowat, max(1, nbytes))
        except OSError:
            lowat = None
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            readable, _, _ = select.select([sock], [], [], remaining)
            if not readable:
                break
            waiting = _peek(sock, nbytes)
            if waiting is None:
                continue
            if len(waiting) >= nbytes or lowat is not None or not waiting:
                # Readable with fewer bytes than asked means the peer hung up.
                return len(waiting)
            pause(0.001)  # no SO_RCVLOWAT here: poll gently (not select(): see pause())
    finally:
        if lowat is not None:
            sock.setsockopt(socket.SOL_SOCKET, lowat, 1)
    arrived = len(_peek(sock, nbytes) or b"")
    raise TimeoutError(f"waited {timeout} s for {nbytes} bytes; {arrived} arrived")


def _peek(sock: socket.socket, nbytes: int) -> bytes | None:
    """The bytes waiting on ``sock`` (up to nbytes) without reading them; None if none yet,
    b"" if the peer hung up."""
    previous = sock.gettimeout()
    try:
        sock.settimeout(0)
        return sock.recv(max(1, nbytes), socket.MSG_PEEK)
    except (TimeoutError, BlockingIOError):
        return None
    finally:
        sock.settimeout(previous)
