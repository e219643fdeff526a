"""The Switchboard: a live picture of a running server, its doorbell and its lines.

Show it under a server and watch calls come and go::

    server = start_echo_server()
    board = Switchboard(server)
    display(board)                  # the doorbell, then one row per line (connection)
    sock = board.ring()             # the board itself dials: a new line appears
    server.log.wait_for("connected", line=1, timeout=5)
    print(board.text())             # the same picture as plain text, for the notebook

Click "Ring the doorbell" to call the server, "Hang up" on a row to end that line from
the server's side.  ``board.refresh()`` re-counts the callers waiting in the backlog:
the calls the board rang that the server has not answered yet, on every system (and on
Linux, which can count a listener's backlog, callers from elsewhere too).

How it stays correct with threads: the server records every event in its log from its
own threads, and the board subscribes to that log.  Each event goes through one method,
:meth:`Switchboard._update`, which changes a plain-Python picture of the server under a
lock and then copies that picture into the widgets.  Nothing here ever prints.

The plain-Python picture it copies (and ``text()`` prints) is in
:mod:`tcplessons.widgets.switchboard_picture`.
"""

from __future__ import annotations

import html
import socket
import threading
import time
from collections.abc import Callable

import ipywidgets as widgets

from ..events import Event
from .switchboard_picture import SHOWN_LINES, _Picture

__all__ = ["Switchboard"]

#: How long ring() waits for the server to answer a call it is ready to answer.
RING_WAIT = 2.0

#: At most how often byte counts are written into the widgets (see Switchboard._update).
PUSH_EVERY = 0.05

#: Seconds a call made by the board may block in a socket operation.
CALL_TIMEOUT = 5.0

# Colours of a line's state in the HTML view (the text view has none).
_COLOURS = {
    "open": "#1a7f37",
    "caller done talking": "#9a6700",
    "closed after the caller finished": "#57606a",
    "closed": "#57606a",
}


class Switchboard(widgets.VBox):
    """A live view of ``server``: its doorbell, its lines, and buttons to ring and hang up.

    Build it in a cell and ``display(board)``.  Then call :meth:`ring` (or click "Ring
    the doorbell"), :meth:`hang_up` (or click a line's "Hang up"), and
    ``print(board.text())`` after ``server.log.wait_for(...)`` to show the same picture
    as text.  :meth:`close` hangs up the board's own calls; stopping the server does too.
    """

    def __init__(self, server, **kwargs):
        super().__init__(**kwargs)
        self.server = server
        self._lock = threading.RLock()  # guards the picture and every widget update
        self._picture = _Picture(server.name, server.address[0])
        self._calls: list[socket.socket] = []  # the calls this board dialled itself
        self._rung: list[tuple] = []  # (socket, its address, when dialled) not answered yet
        self._closed = False
        self._unsubscribe: Callable[[], None] | None = None
        self._written: dict[object, object] = {}  # what _render last wrote, per widget
        self._pushed_at = 0.0  # time.monotonic() of the last write into the widgets
        self._timer: threading.Timer | None = None  # a pending late write, if any
        self._build_widgets()

        # Subscribe first, then replay what already happened, all under the lock: an
        # event arriving meanwhile waits for the lock, and the log appends an event
        # only after its listeners ran, so the replay never counts it twice.
        with self._lock:
            self._unsubscribe = server.log.subscribe(self._on_event)
            for event in server.log.events():
                self._picture.apply(event)
            if self._picture.running:
                self._picture.waiting = self._count_waiting()
            self._push()
        if not self._picture.running:
            self._finish()

    # -- what a cell calls ----------------------------------------------------------

    def ring(self) -> socket.socket:
        """Dial the server, like a caller would, and keep the call open; return its socket.

        The new call shows up as a line once the server answers.  A server that serves
        one caller at a time leaves it waiting in the backlog: ring() does not wait
        for that, it returns at once.  The board hangs the call up in :meth:`close`.
        """
        if self._closed:
            raise RuntimeError("this board is closed: make a new Switchboard(server)")
        server = self.server
        # Will the server answer now?  A thread-per-caller server always does; a
        # one-at-a-time server only when no other call is in progress or queued.
        with self._lock:
            queued = self._count_waiting()
        answers_now = not server.one_at_a_time or (not server.open_lines() and not queued)
        started = time.monotonic()
        sock = socket.create_connection(server.address, timeout=CALL_TIMEOUT)
        me = sock.getsockname()[:2]
        with self._lock:
            self._calls.append(sock)
            self._rung.append((sock, tuple(me), started))
            finished = self._closed or not self._picture.running
        if finished:  # the server stopped while we dialled: hang up like the others
            self._hang_up_own_calls()
        elif answers_now:

            def is_this_call(event: Event) -> bool:
                return (
                    event.kind == "connected"
                    and event.peer is not None
                    and tuple(event.peer[:2]) == me
                    and event.time >= started  # not an older call from the same port
                )

            try:
                server.log.wait_for(is_this_call, timeout=RING_WAIT)
            except TimeoutError:
                pass  # the board catches up when the server does; nothing is lost
        self.refresh()
        return sock

    def hang_up(self, number: int) -> bool:
        """Hang up line ``number`` from the server's side; False if it is not open."""
        with self._lock:
            line = self._picture.lines.get(number)
            if line is not None and line.state.startswith("closed"):
                return False  # the server already closed it (its bookkeeping may lag)

        return self.server.hang_up(number)

    def refresh(self) -> None:
        """Re-count the callers waiting in the backlog (it changes without an event)."""

        def reread(picture: _Picture) -> None:
            picture.waiting = self._count_waiting() if picture.running else None

        self._update(reread)

    def _count_waiting(self) -> int:
        """Callers in the backlog.  Caller holds the lock.

        The board knows its own calls, and which of them the server has answered (the
        "connected" events), on every system.  Only Linux can count a listener's
        backlog (``server.waiting()``), which includes callers from elsewhere.
        """
        answered = self._picture.answered
        self._rung = [
            (sock, me, started)
            for sock, me, started in self._rung
            if sock.fileno() != -1 and answered.get(me, started - 1) < started
        ]
        system = self.server.waiting()
        return len(self._rung) if system is None else max(len(self._rung), system)

    def text(self) -> str:
        """What the board shows, as plain text: the doorbell, then one row per line."""
        with self._lock:
            return self._picture.text()

    def close(self) -> None:
        """Stop following the server and hang up the calls the board made.  Safe twice.

        The board stays on the page showing its last picture.
        """
        with self._lock:
            self._closed = True
            self._push()  # the last picture (a late write may be pending), buttons disabled
        self._finish()

    def __repr__(self) -> str:  # constant: nbval compares it, and it must not change
        return f"<Switchboard for {self.server.name!r}>"

    # -- the one locked path from events to widgets ---------------------------------

    def _on_event(self, event: Event) -> None:
        """Called by the server's log, in a server thread, for every new event."""
        # Byte counts may reach the browser a moment late; everything else at once.
        soon = event.kind in ("received", "sent")
        self._update(lambda picture: picture.apply(event), soon=soon)
        if event.kind == "stopped":
            self._finish()
        elif event.kind in ("connected", "closed"):
            self.refresh()  # a caller left the backlog, or a one-at-a-time server is free

    def _update(self, change: Callable[[_Picture], None], soon: bool = False) -> None:
        """Apply ``change`` to the picture and copy the picture into the widgets.

        Every change, from any thread, comes through here, one at a time.  The picture
        (and so :meth:`text`) is always up to date.  With ``soon=True`` the widgets
        are written at most every ``PUSH_EVERY`` seconds: a server reading one byte at
        a time records an event per byte, and a message per byte would flood the
        browser and slow the server down.  A timer writes the last change.
        """
        with self._lock:
            if self._closed:
                return
            change(self._picture)
            waited = time.monotonic() - self._pushed_at
            if not soon or waited >= PUSH_EVERY:
                self._push()
            elif self._timer is None:
                self._timer = threading.Timer(PUSH_EVERY - waited, self._push_late)
                self._timer.daemon = True
                self._timer.name = f"tcplessons {self.server.name} switchboard"
                self._timer.start()

    def _push(self) -> None:
        """Write the picture into the widgets now.  Caller holds the lock."""
        self._pushed_at = time.monotonic()
        self._render()

    def _push_late(self) -> None:
        with self._lock:
            self._timer = None
            if not self._closed:
                self._push()

    # -- widgets (built in the main thread, updated only from _render) ---------------

    def _build_widgets(self) -> None:
        self.add_class("tcplessons-switchboard")
        self.doorbell = widgets.HTML()
        self.ring_button = widgets.Button(
            description="Ring the doorbell",
            icon="bell",
            tooltip="Dial the server and keep the call open",
        )
        self.ring_button.on_click(self._ring_clicked)
        self.status = widgets.HTML()
        self.more = widgets.HTML()

        # A fixed pool of rows, made once: line n always uses row (n - 1) % SHOWN_LINES,
        # so a row's button keeps meaning the same line for as long as that line is shown.
        row_layout = widgets.Layout(align_items="center", min_height="34px")
        text_layout = widgets.Layout(min_width="24em")
        button_layout = widgets.Layout(width="auto")
        self._row_texts: list[widgets.HTML] = []
        self._row_buttons: list[widgets.Button] = []
        self._row_boxes: list[widgets.HBox] = []
        self._row_line: list[int] = [0] * SHOWN_LINES
        for i in range(SHOWN_LINES):
            label = widgets.HTML(layout=text_layout)
            button = widgets.Button(description="Hang up", icon="phone", layout=button_layout)
            button.on_click(self._hang_up_clicked(i))
            box = widgets.HBox([label], layout=row_layout)
            box.add_class("tcplessons-line")
            self._row_texts.append(label)
            self._row_buttons.append(button)
            self._row_boxes.append(box)
        self.lines_box = widgets.VBox()
        self.children = (
            self.doorbell,
            widgets.HBox([self.ring_button, self.status], layout=row_layout),
            self.more,
            self.lines_box,
        )

    def _render(self) -> None:
        """Copy the picture into the widgets.  Caller holds the lock.

        Only what changed is written: each write is a message to the browser, and a
        server receiving one byte at a time records an event per byte.
        """
        picture = self._picture
        state = picture.doorbell_text()
        if self._written.get("doorbell") != state:
            self._written["doorbell"] = state
            name = html.escape(repr(picture.name))
            rest = html.escape(state.split(": ", 1)[1])
            self.doorbell.value = f"<b>Doorbell {name} on {html.escape(picture.host)}</b>: {rest}"
        live = picture.running and not self._closed
        self._set(self.ring_button, "disabled", not live)
        self._set(
            self.more, "value", html.escape(picture.hidden_text()) if picture.hidden() else ""
        )
        self._set(self.status, "value", html.escape(picture.status))

        boxes = []
        for line in picture.shown():
            i = (line.number - 1) % SHOWN_LINES
            self._row_line[i] = line.number
            label, button, box = self._row_texts[i], self._row_buttons[i], self._row_boxes[i]
            words = line.text()
            if self._written.get(i) != words:
                self._written[i] = words
                colour = "#cf222e" if line.error else _COLOURS.get(line.state, "inherit")
                label.value = f'<code style="color:{colour}">{html.escape(words)}</code>'
            self._set(button, "tooltip", f"Hang up line {line.number}")
            self._set(button, "disabled", not live)
            wanted = (label, button) if line.state == "open" and live else (label,)
            if box.children != wanted:
                box.children = wanted
            boxes.append(box)
        if tuple(boxes) != self.lines_box.children:
            self.lines_box.children = tuple(boxes)

    def _set(self, widget: widgets.Widget, name: str, value) -> None:
        """Set a widget's trait only if it changed since the last write (writes cost)."""
        key = (id(widget), name)
        if key not in self._written or self._written[key] != value:
            self._written[key] = value
            setattr(widget, name, value)

    def _ring_clicked(self, _button) -> None:
        # Runs in the kernel's main thread when the button is clicked in the browser.
        try:
            self.ring()
        except OSError as exc:
            self._say(f"Could not ring: {type(exc).__name__}: {exc}")
        else:
            self._say("")

    def _hang_up_clicked(self, row: int) -> Callable[[widgets.Button], None]:
        def clicked(_button) -> None:
            number = self._row_line[row]
            if number and not self.hang_up(number):
                self._say(f"Line {number} is not open.")

        return clicked

    def _say(self, words: str) -> None:
        """Show a short note beside the ring button (through the one locked path)."""

        def note(picture: _Picture) -> None:
            picture.status = words

        self._update(note)

    # -- cleaning up ---------------------------------------------------------------

    def _finish(self) -> None:
        """The server stopped or the board closed: let go of everything the board holds."""
        self._stop_following()
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()  # the last picture was already written
            if timer is not threading.current_thread():
                timer.join(1.0)  # the timer thread ends at once once cancelled
        self._hang_up_own_calls()

    def _stop_following(self) -> None:
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()

    def _hang_up_own_calls(self) -> None:
        with self._lock:
            calls, self._calls, self._rung = self._calls, [], []
        for sock in calls:
            sock.close()
