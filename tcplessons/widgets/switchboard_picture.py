"""What a :class:`~tcplessons.widgets.Switchboard` knows about its server, in plain Python:
no widgets, no threads, just state.

:class:`_Picture` changes with each event of the server's log and writes itself as text
(``board.text()``); the Switchboard (:mod:`tcplessons.widgets.switchboard`) copies it
into its widgets under its lock.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..events import Event

#: How many lines the board shows; older ones are summed up in a "… N earlier" note.
#: A bounded number of rows keeps the number of widgets (and browser work) bounded.
SHOWN_LINES = 20


def _bytes(n: int) -> str:
    return "1 byte" if n == 1 else f"{n} bytes"


@dataclass
class _Line:
    """What the board knows about one line (one accepted connection)."""

    number: int
    # "open"; "caller done talking" (recv() gave b"": the caller shut down its sending
    # side or hung up, the server cannot tell which); "closed after the caller finished";
    # or "closed" (the server ended the call first).
    state: str = "open"
    bytes_in: int = 0
    bytes_out: int = 0
    error: str | None = None  # the exception's type name, if the handler failed

    def text(self) -> str:
        words = f"line {self.number}: {self.state}, {_bytes(self.bytes_in)} in, {_bytes(self.bytes_out)} out"
        if self.error:
            words += f", error: {self.error}"
        return words


class _Picture:
    """The plain-Python model the widgets copy: no widgets, no threads, just state."""

    def __init__(self, name: str, host: str):
        self.name, self.host = name, host
        self.running = True
        self.waiting: int | None = None
        self.error: str | None = None  # an error of the listener itself (line 0)
        self.lines: dict[int, _Line] = {}
        self.answered: dict[tuple, float] = {}  # caller's address -> when it was answered
        self.highest = 0  # the newest line's number
        self.status = ""  # what the last button click said, if it went wrong

    def line(self, number: int) -> _Line:
        # A line we never saw connect (its events fell out of a full log) still counts.
        if number not in self.lines:
            self.lines[number] = _Line(number)
            self.highest = max(self.highest, number)
        return self.lines[number]

    def apply(self, event: Event) -> None:
        """Change the picture for one event from the server's log."""
        kind = event.kind
        if kind == "listening":
            self.running = True
        elif kind == "stopped":
            self.running = False
            self.waiting = None
        elif kind == "error" and not event.line:
            self.error = type(event.error).__name__
        elif kind == "connected":
            self.lines[event.line] = _Line(event.line)
            self.highest = max(self.highest, event.line)
            if event.peer is not None:
                self.answered[tuple(event.peer[:2])] = event.time
        elif kind == "received":
            self.line(event.line).bytes_in += event.nbytes
        elif kind == "sent":
            self.line(event.line).bytes_out += event.nbytes
        elif kind == "hung up":
            # The log says "hung up" only when the caller did it, never for a line the
            # server shut down itself (a Hang up click, or stop()).
            line = self.line(event.line)
            if line.state == "open":
                line.state = "caller done talking"
        elif kind == "error":
            self.line(event.line).error = type(event.error).__name__
        elif kind == "closed":
            line = self.line(event.line)
            # Say who finished first: a half-close is not the server hanging up.
            done = line.state == "caller done talking"
            line.state = "closed after the caller finished" if done else "closed"

    def shown(self) -> list[_Line]:
        """The newest lines, oldest first (the server numbers lines 1, 2, 3…)."""
        first = max(1, self.highest - SHOWN_LINES + 1)
        return [self.lines[n] for n in range(first, self.highest + 1) if n in self.lines]

    def hidden(self) -> int:
        return len(self.lines) - len(self.shown())

    def doorbell_text(self) -> str:
        words = f"Doorbell {self.name!r} on {self.host}: "
        if not self.running:
            words += "stopped"
        else:
            words += "listening"
            if self.waiting is not None:
                callers = "caller" if self.waiting == 1 else "callers"
                words += f", {self.waiting} {callers} waiting"
        if self.error:
            words += f", error: {self.error}"
        return words

    def hidden_text(self) -> str:
        n = self.hidden()
        return f"… {n} earlier {'line' if n == 1 else 'lines'} not shown"

    def text(self) -> str:
        rows = [self.doorbell_text()]
        if self.hidden():
            rows.append(self.hidden_text())
        rows += [line.text() for line in self.shown()]
        return "\n".join(rows)
