"""The run of a learner's ``serve_many`` that lesson 05's checks watch: :class:`_Harness`.

It hands ``serve_many`` a real listening socket on 127.0.0.1 (:class:`_Listener`, whose
``accept()`` stops a loop that never returns once the check is over) and a handler of
its own, runs it in a daemon thread, dials it with real sockets and records what the
handler is given.  While it runs, a thread ``serve_many`` starts waits before running
(see :meth:`_Harness._hold`), so a thread that reads ``conn`` late always sees a later
caller's line.  The checks that use it are in :mod:`.many`, which explains why.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

from ..tracked import StoppableListener
from .model import CheckFailed
from .tools import CALL_TIMEOUT, READ_TIMEOUT, RETURN_TIMEOUT

__all__: list[str] = []

#: Seconds to wait for something a correct serve_many does at once (a handler called).
PROMPT = READ_TIMEOUT
#: Seconds to wait for serve_many to return after the listener is shut down or closed.
RETURN_WAIT = READ_TIMEOUT
#: Seconds a check's handler holds its line at most (the check releases it far sooner).
HOLD_LIMIT = CALL_TIMEOUT
#: Seconds a started thread waits for the loop to come back to accept() (a loop that
#: joins its thread never comes back: its handler then runs after this).
BACK_LIMIT = RETURN_TIMEOUT

LATE_HINT = (
    "a lambda (or a function defined in the loop) that reads conn when its thread starts, "
    "like Thread(target=lambda: handler(conn)), sees whatever conn is by then, often the "
    "next caller's line; hand the thread this caller's conn itself: "
    "Thread(target=handler, args=(conn,))"
)

CLOSED_TOO_SOON = "the caller's line was closed while handler was still using it"
CLOSED_HINT = (
    "don't close conn in the accept loop (no `with conn:` around starting the thread): "
    "the thread running handler(conn) owns it, and may close it when handler returns"
)


@contextlib.contextmanager
def _patched(owner, name: str, value) -> Iterator[None]:
    """``owner.name = value`` for the block; the old value is back on every path."""
    old = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, old)


class _StopServing(BaseException):
    """Raised by the check's listener once the check is over (not an OSError on purpose)."""


class _Listener(StoppableListener):
    """A real listening socket whose accept() refuses to run once the check is over.

    A :class:`StoppableListener`: stopping it wakes a blocked accept() on every system
    (shutdown() of a listener wakes it on Linux only; on macOS it raises ENOTCONN).
    """

    finished = False
    on_accept: Callable[[], None] | None = None  # told each time accept() is called

    def accept(self):
        if self.finished:
            raise _StopServing("this check is over; the listener is gone")
        if self.on_accept is not None:
            self.on_accept()
        return super().accept()


class _Harness:
    """One run of the learner's serve_many against a fresh listener.

    ``mode`` says what the check's handler does with each line: "hold" (stay on the line
    until :meth:`release`), "talk" (read one line, answer it) or "quick" (hang up at once).
    """

    def __init__(
        self, serve_many: Callable, mode: str, *, closed: bool = False, hold_starts: bool = False
    ):
        self.serve_many = serve_many
        self.hold_starts = hold_starts
        self.started = 0  # threads serve_many has started (counted only with hold_starts)
        self.accepts = 0  # accept() calls so far
        self.starts_released = False
        self.mode = mode
        self.closed_before = closed
        self.changed = threading.Condition()
        self.peers: list[tuple] = []  # the caller each handler call was given, in order
        self.given: list[socket.socket] = []  # the sockets handler was given, in order
        self.exits = 0
        self.problems: list[tuple] = []  # (what went wrong, hint)
        self.outcome: tuple | None = None  # ("returned", value) or ("raised", exc)
        self.released = threading.Event()
        self.clients: list[socket.socket] = []
        self.learner_threads: list[threading.Thread] = []  # the threads serve_many started

        def handler(*args, **kwargs) -> None:
            self._handle(args, kwargs)

        # Python names a function in its error messages as module.qualname(); this makes
        # them say plain "handler()", the name the learner knows it by.
        handler.__module__ = "builtins"
        handler.__qualname__ = "handler"
        self.handler = handler

    # -- setting up and tearing down ---------------------------------------------------

    def __enter__(self) -> _Harness:
        self.listener = _Listener.create(("127.0.0.1", 0), backlog=64)
        self.address = self.listener.getsockname()[:2]
        self.listener.on_accept = self._accepting
        if self.closed_before:
            self.listener.close()
        self.thread = threading.Thread(target=self._run, name="tcplessons serve_many", daemon=True)
        # What this check changes in the threading module, put back by __exit__ however
        # the check ends (and at once if starting fails here).
        with contextlib.ExitStack() as patches:
            # A thread the learner starts may raise: shown in the report, not on stderr.
            patches.enter_context(_patched(threading, "excepthook", self._thread_failed))
            start = self._make_start(threading.Thread.start)
            patches.enter_context(_patched(threading.Thread, "start", start))
            self.thread.start()
            self._patches = patches.pop_all()
        return self

    def _make_start(self, old_start: Callable) -> Callable:
        harness = self

        def start(thread: threading.Thread) -> None:
            me = threading.current_thread()
            # A thread belongs to the check whose serve_many (or whose thread) started it:
            # one left over from an earlier check must not fail this one.
            owner = harness if me is harness.thread else getattr(me, "_serve_many_check", None)
            if owner is not None:
                thread._serve_many_check = owner
            if me is harness.thread:
                harness.learner_threads.append(thread)
                if harness.hold_starts:
                    harness._hold(thread)
                else:
                    harness._hold_until_back(thread)
            old_start(thread)

        return start

    def _hold(self, thread: threading.Thread) -> None:
        """Make ``thread`` wait, before it runs anything, until serve_many has started the
        next thread (so the loop has moved on to the next caller) or the check says go."""
        with self.changed:
            self.started += 1
            number = self.started
            self.changed.notify_all()
            accepts = self.accepts
        run = thread.run

        def held_run() -> None:
            with self.changed:
                self.changed.wait_for(
                    lambda: self.started > number or self.starts_released, HOLD_LIMIT
                )
                self.changed.wait_for(lambda: self._back_since(accepts), BACK_LIMIT)
            run()

        thread.run = held_run

    def _hold_until_back(self, thread: threading.Thread) -> None:
        """Make ``thread`` wait, before it runs anything, until serve_many is back in
        accept() or has returned (at most ``BACK_LIMIT`` s): whatever the loop does to the
        line after starting the thread (``with conn:`` closing it) has then happened, so
        what the handler finds never depends on which thread the system ran first."""
        with self.changed:
            accepts = self.accepts
        run = thread.run

        def held_run() -> None:
            with self.changed:
                self.changed.wait_for(lambda: self._back_since(accepts), BACK_LIMIT)
            run()

        thread.run = held_run

    def _back_since(self, accepts: int) -> bool:
        """Whether serve_many has called accept() again since ``accepts``, or returned."""
        return self.accepts > accepts or self.outcome is not None

    def _accepting(self) -> None:
        with self.changed:
            self.accepts += 1
            self.changed.notify_all()

    def wait_starts(self, n: int) -> None:
        """With ``hold_starts``: wait until all ``n`` callers are in (a thread started, or
        handler called, for each; or accept() called for one more), then let every held
        thread run."""
        self.wait(lambda: self.started >= n or len(self.peers) >= n or self.accepts > n, PROMPT)
        self.release_starts()

    def release_starts(self) -> None:
        with self.changed:
            self.starts_released = True
            self.changed.notify_all()

    def __exit__(self, *exc_info) -> None:
        try:
            self._finish()
        finally:
            self._patches.close()  # threading as it was, on every path

    def _finish(self) -> None:
        self.release_starts()  # threads started from now on are not held
        self.released.set()
        self.listener.finished = True
        self.stop_listener()
        for client in self.clients:
            client.close()
        self.thread.join(0.5)
        # Let handlers that were holding their line finish before the hook goes back.
        with self.changed:
            self.changed.wait_for(lambda: self.exits >= len(self.peers), 0.5)
        # And the threads serve_many started (a held one runs only now, and may raise at
        # once): their errors belong to this check, not to the next one.
        deadline = time.monotonic() + 0.5
        for thread in self.learner_threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self) -> None:
        try:
            value = self.serve_many(self.listener, self.handler)
        except _StopServing:
            outcome = ("stopped by the check", None)
        except BaseException as exc:  # shown in the report, never on stderr
            outcome = ("raised", exc)
        else:
            outcome = ("returned", value)
        with self.changed:
            self.outcome = outcome
            self.changed.notify_all()

    def _thread_failed(self, args) -> None:
        if isinstance(args.exc_value, _StopServing):
            return
        if getattr(args.thread, "_serve_many_check", None) is not self:
            return  # an earlier check's thread, still ending: not this check's business
        self._problem(
            f"a thread you started raised {args.exc_type.__name__}: {args.exc_value}",
            "Thread(target=handler, args=(conn,)) calls handler(conn) in the new thread; "
            "target is the function itself (no brackets) and args a tuple, so (conn,) needs its comma",
        )

    def _problem(self, text: str, hint: str = "") -> None:
        hint = (
            hint
            or "accept() returns (conn, address); handler(conn) gets conn, the caller's own line"
        )
        with self.changed:
            self.problems.append((text, hint))
            self.changed.notify_all()

    def stop_listener(self) -> None:
        """What a server's owner does to stop it: the learner's blocked accept() raises
        OSError, then the listener is closed (the same on every system)."""
        self.listener.stop()

    # -- the check's handler -----------------------------------------------------------

    def _handle(self, args, kwargs) -> None:
        conn = None
        try:
            conn = self._inspect(args, kwargs)
            if conn is None:
                return
            with self.changed:
                twice = any(conn is seen for seen in self.given)
                self.given.append(conn)
            if twice:  # that line belongs to another handler call: leave it alone
                self._problem(
                    "handler was given the same caller's line twice, and another caller's never",
                    LATE_HINT,
                )
                return
            try:
                peer = conn.getpeername()[:2]
            except OSError:
                if conn.fileno() == -1:
                    self._problem(CLOSED_TOO_SOON, CLOSED_HINT)
                else:
                    self._problem("handler was given a socket that is not connected to any caller")
                return
            with self.changed:
                self.peers.append(peer)
                self.changed.notify_all()
            try:
                if self.mode == "hold":
                    self.released.wait(HOLD_LIMIT)
                elif self.mode == "talk":
                    self._talk(conn)
            finally:
                conn.close()
                with self.changed:
                    self.exits += 1
                    self.changed.notify_all()
        except Exception as exc:  # the check's handler must never raise into learner code
            if isinstance(exc, OSError) and conn is not None and conn.fileno() == -1:
                self._problem(CLOSED_TOO_SOON, CLOSED_HINT)
            else:
                self._problem(f"the check's handler failed: {type(exc).__name__}: {exc}")

    def _inspect(self, args, kwargs) -> socket.socket | None:
        """The connection handler was given, or None after recording what was wrong."""
        if len(args) != 1 or kwargs:
            count = len(args) + len(kwargs)
            self._problem(
                f"handler was called with {count} arguments; call it with one: handler(conn)"
            )
            return None
        conn = args[0]
        if isinstance(conn, tuple):
            self._problem(
                "handler was given a tuple (what accept() returns), not the connection; "
                "unpack it first: conn, address = listener.accept()"
            )
            return None
        if not isinstance(conn, socket.socket):
            self._problem(f"handler was given a {type(conn).__name__}, not a socket")
            return None
        listening = conn is self.listener
        try:
            listening = listening or bool(conn.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
        except (OSError, AttributeError):
            pass
        if listening:
            self._problem(
                "handler was given the listening socket (the doorbell), not the caller's line; "
                "pass it the conn that accept() returned"
            )
            return None
        return conn

    def _talk(self, conn: socket.socket) -> None:
        conn.settimeout(HOLD_LIMIT)
        data = b""
        while not data.endswith(b"\n") and len(data) < 100:
            chunk = conn.recv(100)
            if not chunk:
                return
            data += chunk
        conn.sendall(b"hello, " + data)

    # -- what a check does -------------------------------------------------------------

    def dial(self) -> socket.socket:
        client = socket.create_connection(self.address, timeout=HOLD_LIMIT)
        self.clients.append(client)
        return client

    def release(self) -> None:
        self.released.set()

    def wait(self, ready: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``ready()``, or something went wrong, or serve_many finished."""
        with self.changed:
            self.changed.wait_for(
                lambda: ready() or self.problems or self.outcome is not None, timeout
            )
            return ready()

    def wait_calls(self, n: int, timeout: float = PROMPT) -> bool:
        return self.wait(lambda: len(self.peers) >= n, timeout)

    def wait_exits(self, n: int, timeout: float = PROMPT) -> bool:
        return self.wait(lambda: self.exits >= n, timeout)

    def wait_return(self, timeout: float = RETURN_WAIT) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.outcome is not None, timeout)

    def explain(self) -> None:
        """Raise what went wrong so far, if anything: a handler problem, or serve_many
        having stopped (an exception of the learner's code is re-raised as it is)."""
        if self.problems:
            what, hint = self.problems[0]
            raise CheckFailed(what, hint=hint)
        if self.outcome is not None:
            how, value = self.outcome
            if how == "raised":
                raise value
            raise CheckFailed(
                "serve_many returned while callers were still ringing",
                expected="serve_many keeps answering callers until the listener is shut down",
                hint="loop: accept a caller, start its thread, go back to accept() for the next one",
            )
