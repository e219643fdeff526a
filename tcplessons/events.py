"""A thread-safe event log: what a background server saw, read from the main thread.

Server threads never print (in a notebook their output would land in whichever cell
happens to be running).  They *record* events here instead, and a cell waits for the
event it expects and prints it itself::

    server = start_echo_server()
    ...                                   # a client cell talks to it
    server.log.wait_for("hung up", line=1, timeout=5)
    server.log.show()                     # print the story of every line, in order

Lines (connections) are numbered 1, 2, 3… in the order the server accepted them, so what
a cell prints never depends on a port number or on how threads were scheduled.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice

__all__ = ["Event", "EventLog"]

#: The kinds of event a server records, in the order they usually happen.
KINDS = (
    "listening",  # the doorbell is installed: bind() and listen() succeeded
    "connected",  # accept() handed us a new line (a new socket)
    "received",  # recv() returned some bytes
    "sent",  # send()/sendall() handed some bytes to the kernel
    "hung up",  # the caller hung up: recv() returned b""
    "error",  # the handler raised, or a socket call failed
    "closed",  # the server closed its end of the line
    "stopped",  # the listener is closed and every thread has finished
)

#: How many bytes of data an event keeps, so a flood cannot fill memory.
PREVIEW_BYTES = 64


@dataclass(frozen=True)
class Event:
    """One thing that happened on a server.

    ``line`` is the connection's number (0 for the listener itself); ``nbytes`` and
    ``data`` (the first 64 bytes) are set for "received" and "sent"; ``error`` holds the
    exception for "error".
    """

    kind: str
    line: int = 0
    nbytes: int = 0
    data: bytes = b""
    error: BaseException | None = field(default=None, compare=False)
    peer: tuple | None = field(default=None, compare=False, repr=False)
    time: float = field(default_factory=time.monotonic, compare=False, repr=False)

    def __str__(self) -> str:
        who = f"line {self.line}" if self.line else "server"
        if self.kind in ("received", "sent"):
            unit = "byte" if self.nbytes == 1 else "bytes"
            more = "…" if self.nbytes > len(self.data) else ""
            return f"{who}: {self.kind} {self.nbytes} {unit} {self.data!r}{more}"
        if self.kind == "error":
            return f"{who}: error {type(self.error).__name__}: {self.error}"
        return f"{who}: {self.kind}"


Matcher = str | Callable[[Event], bool]


class EventLog:
    """Events recorded by server threads, safe to read and wait on from any thread.

    Call :meth:`wait_for` to block (with a timeout) until an event arrives, then
    :meth:`show` or :meth:`lines` to print what happened.
    """

    def __init__(self, limit: int = 10_000):
        # A deque with a maximum length keeps the newest events: a flood of events must
        # not grow memory without bound, and dropping the oldest costs nothing.
        self._events: deque = deque(maxlen=limit)
        self._total = 0  # events ever recorded, so a waiter looks only at what is new
        self._changed = threading.Condition()
        self._listeners: list[Callable[[Event], None]] = []
        self.dropped = 0  # events forgotten because the log was full

    # -- recording (server threads) -------------------------------------------------

    def record(self, kind: str, line: int = 0, **details) -> Event:
        """Add an event and wake everyone waiting.  Called from server threads."""
        if kind not in KINDS:
            raise ValueError(f"unknown event kind {kind!r}; expected one of {KINDS}")
        data = details.pop("data", b"")
        event = Event(kind, line, data=bytes(data[:PREVIEW_BYTES]), **details)
        with self._changed:
            listeners = list(self._listeners)
        # Listeners (widgets) see the event before any waiter does, so a cell that
        # returns from wait_for() finds its widget already up to date.
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a broken widget must never break the server
                pass
        with self._changed:
            if len(self._events) == self._events.maxlen:
                self.dropped += 1
            self._events.append(event)
            self._total += 1
            self._changed.notify_all()
        return event

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``listener(event)`` for every new event; returns a function that undoes it.

        The listener runs in the server's thread: keep it short and thread-safe.
        """
        with self._changed:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._changed:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    # -- reading (main thread) --------------------------------------------------------

    def events(self, kind: str | None = None, line: int | None = None) -> list[Event]:
        """A snapshot of the events so far, optionally only of one kind or one line."""
        with self._changed:
            snapshot = list(self._events)
        return [
            e
            for e in snapshot
            if (kind is None or e.kind == kind) and (line is None or e.line == line)
        ]

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events())

    def __len__(self) -> int:
        with self._changed:
            return len(self._events)

    def errors(self) -> list[BaseException]:
        """The exceptions handlers raised, oldest first."""
        return [e.error for e in self.events("error")]

    def clear(self) -> None:
        """Forget every event (handy before a new experiment in the same server)."""
        with self._changed:
            self._events.clear()

    def wait_for(
        self,
        what: Matcher,
        *,
        line: int | None = None,
        count: int = 1,
        timeout: float = 5.0,
    ) -> Event:
        """Block until ``count`` matching events have been recorded; return the last one.

        ``what`` is an event kind such as ``"hung up"`` or a function ``event -> bool``.
        Raises ``TimeoutError`` after ``timeout`` seconds, saying what did happen, so a
        mistake fails the cell in seconds instead of freezing the notebook.
        """
        if isinstance(what, str):
            if what not in KINDS:
                raise ValueError(f"unknown event kind {what!r}; expected one of {KINDS}")
            kind = what

            def matches(e: Event) -> bool:
                return e.kind == kind and (line is None or e.line == line)

            described = f"{what!r}" + (f" on line {line}" if line is not None else "")
        else:
            predicate = what

            def matches(e: Event) -> bool:
                return predicate(e) and (line is None or e.line == line)

            described = "a matching event"

        found: list[Event] = []
        seen_total = [0]  # how many events ever recorded this waiter has looked at

        def enough() -> bool:
            new = self._total - seen_total[0]
            seen_total[0] = self._total
            fresh = list(islice(reversed(self._events), min(new, len(self._events))))
            found.extend(e for e in reversed(fresh) if matches(e))
            return len(found) >= count

        with self._changed:
            seen_total[0] = self._total - len(self._events)  # start with what is there
            if self._changed.wait_for(enough, timeout=timeout):
                return found[count - 1]
            seen = [str(e) for e in list(self._events)[-10:]]
        raise TimeoutError(
            f"waited {timeout} s for {described} (x{count}) but it did not happen; "
            f"last events: {seen or 'none'}"
        )

    def lines(self, line: int | None = None) -> list[str]:
        """The events as text, grouped by line (the server's own events around them).

        Grouping by line keeps the output the same whatever order threads ran in.
        """
        events = self.events(line=line)
        numbers = sorted({e.line for e in events if e.line})
        server = [e for e in events if not e.line]
        ordered = [e for e in server if e.kind != "stopped"]
        ordered += [e for n in numbers for e in events if e.line == n]
        ordered += [e for e in server if e.kind == "stopped"]
        return [str(e) for e in ordered]

    def show(self, line: int | None = None) -> None:
        """Print :meth:`lines` — call it from a cell, never from a server thread."""
        for text in self.lines(line):
            print(text)

    def __repr__(self) -> str:  # constant shape: no addresses, no counts that race
        return "<EventLog>"
