"""Building blocks for checks: real loopback sockets, bounded calls, awkward sockets.

Every check drives the learner's code with real sockets on 127.0.0.1 (port 0), and every
wait is bounded, so a wrong answer fails in seconds instead of hanging the notebook.
A check module imports what it needs from here and reads like a list of what the
exercise must do; the conventions it follows:

- the exercise object is ``<id>_exercise`` (``recv_all_exercise``), registered at the end;
- each check is a named function (``def _reads_a_short_message(fn)``) under
  ``@<id>_exercise.check("what it must do")``;
- every wait uses one of the timeouts below, never a number of its own;
- bytes are shown with :func:`show_bytes`; a fake socket is built with :func:`adopt`
  and a connection reset with :func:`reset`;
- learner code runs through :class:`LearnerCall` / :func:`call_with_timeout`.

What is here:

- :data:`CALL_TIMEOUT`, :data:`RETURN_TIMEOUT`, :data:`READ_TIMEOUT`,
  :data:`STALL_TIMEOUT`, :data:`PAUSE` — the only timeouts checks use.
- :func:`loopback_pair` — two connected TCP sockets (client side, server side).
- :class:`LearnerCall` / :func:`call_with_timeout` — learner code in a thread of its own.
- :func:`adopt` — move a real socket's connection into a socket class that changes one
  behaviour: :class:`ShortRecvSocket` (``recv`` returns a few bytes at a time),
  :class:`ShortSendSocket` (``send`` writes a few bytes at a time), and the checks' own.
- :class:`SocketWatch` — see the sockets learner code creates and binds, and make their
  ``send()`` write only a few bytes (for code that opens its own socket).
- :func:`send_in_chunks`, :func:`recv_until_closed` — the check's side of a stream.
- :func:`reset` — drop a connection with a reset (RST), as a vanished caller does.
- :func:`show_bytes`, :func:`exact_type_problem` — what the report shows.
- :func:`blocking_with_os_timeouts`, :func:`shut_down_and_close`.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from .model import CheckFailed

__all__ = [
    "CALL_TIMEOUT",
    "PAUSE",
    "READ_TIMEOUT",
    "RETURN_TIMEOUT",
    "STALL_TIMEOUT",
    "CheckSocket",
    "LearnerCall",
    "ShortRecvSocket",
    "ShortSendSocket",
    "SocketWatch",
    "adopt",
    "blocking_with_os_timeouts",
    "call_with_timeout",
    "exact_type_problem",
    "loopback_pair",
    "recv_until_closed",
    "reset",
    "send_in_chunks",
    "show_bytes",
    "shut_down_and_close",
]

#: Seconds one call of learner code may take when everything it needs is there.  A right
#: answer takes milliseconds; this only ever fires on a real hang.
CALL_TIMEOUT = 3.0
#: Seconds a call may take that must return at once (the caller has already hung up, or
#: nothing is needed): what a loop that ignores ``b""`` costs before it fails.
RETURN_TIMEOUT = 1.0
#: Seconds the check waits for bytes the learner's code should already have sent.
READ_TIMEOUT = 2.0
#: Seconds learner code may go without progress (no byte read or written) on a large
#: payload before the check says it stopped.  Slow is fine; stopped is not.
STALL_TIMEOUT = 3.0
#: Seconds a sender pauses in the middle of a stream: longer than the idle timeouts
#: learners put on sockets (and longer still if the learner's own timeout is longer,
#: see :func:`pause_for`).  Only ``b""`` ends a stream; a pause never does.
PAUSE = 1.5
#: Learner timeouts up to this many seconds are waited out by a pause (see pause_for).
MAX_WAITED_OUT = 3.0


def show_bytes(data: bytes, limit: int = 40) -> str:
    """``b'hello'``, or ``b'0123…' (10000 bytes)`` for long data."""
    if len(data) <= limit:
        return repr(bytes(data))
    return f"{bytes(data[:limit])!r}… ({len(data)} bytes)"


def exact_type_problem(value: Any, expected: type) -> str | None:
    """None if ``type(value) is expected``; else words for what ``value`` is.

    Checks compare exact types (a subclass may redefine ``==`` to say yes to anything),
    then compare values with the expected type's own ``==``.
    """
    if type(value) is expected:
        return None
    if isinstance(value, expected):
        return f"a subclass of {expected.__name__} ({type(value).__name__}), not {expected.__name__} itself"
    return f"a {type(value).__name__}, not {expected.__name__}"


@contextlib.contextmanager
def loopback_pair(timeout: float = CALL_TIMEOUT) -> Iterator[tuple[socket.socket, socket.socket]]:
    """Yield ``(client, server)``: the two ends of one real TCP connection on 127.0.0.1.

    Both have ``timeout`` set, and both are closed afterwards.
    """
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname(), timeout=timeout)
        server, _ = listener.accept()
    server.settimeout(timeout)
    try:
        yield client, server
    finally:
        client.close()
        server.close()


def adopt(cls, sock: socket.socket, **attributes: Any):
    """Move ``sock``'s connection into a new socket of class ``cls`` (a ``socket.socket``
    subclass that changes one behaviour), with ``attributes`` set on it and ``sock``'s
    timeout kept.  ``sock`` is detached: use (and close) only the returned socket."""
    timeout = sock.gettimeout()
    new = cls(fileno=sock.detach())
    new.settimeout(timeout)
    if issubclass(cls, CheckSocket):
        new.starved = threading.Event()
    for name, value in attributes.items():
        setattr(new, name, value)
    return new


class CheckSocket(socket.socket):
    """A real socket handed to learner code that tells the check how it reads.

    - ``starved`` (an Event) is set when the learner's code calls ``recv()`` while
      nothing is waiting: it has read everything sent so far.  A check's sender waits
      for that before sending the rest (see :func:`send_in_chunks`), so the data is never
      all queued before the learner's code reads, and a reader that stops when nothing
      is waiting (non-blocking mode, a short timeout) stops at that point on every run.
    - ``gave_up`` is True once a ``recv()`` raised ``BlockingIOError`` or a timeout.

    Every fake socket of the checks derives from it; build one with :func:`adopt`.
    """

    starved: threading.Event
    gave_up = False
    #: Bytes the learner's recv() calls have returned so far.
    delivered = 0
    #: What the running recv() needs before it returns: delivered + 1, or + n with
    #: MSG_WAITALL.
    wants = 0
    #: How many recv() calls of the learner's code are running right now.
    reading_now = 0
    #: While the check's sender waits for the reader: how many bytes it has written in
    #: all (None otherwise).  Comparing counts costs nothing per recv(): recv(1) over a
    #: megabyte stays as fast as on a plain socket.
    sent_mark: int | None = None

    def wait_for_reader(
        self, sent: int, timeout: float, finished: Callable[[], bool] = lambda: False
    ) -> None:
        """Wait until the learner's code has read all ``sent`` bytes the check wrote and
        waits for more (or ``finished()``, or ``timeout`` seconds).  Called by the
        check's sender."""
        self.sent_mark = sent
        deadline = time.monotonic() + timeout
        while not self.starved.wait(0.005) and not finished() and time.monotonic() < deadline:
            # A blocking (or timeout) read in progress with everything read: it waits.
            # A non-blocking read is judged by its own result instead (see _failed).
            if self.reading_now and self.wants > sent and self.gettimeout() != 0.0:
                self.starved.set()
        self.sent_mark = None

    def _reading(self, bufsize: int, flags: int) -> None:
        """Before a recv(): a blocking read that wants more than was sent will wait."""
        self.wants = self.delivered + (max(bufsize, 1) if flags & _WAITALL else 1)
        mark = self.sent_mark
        if mark is not None and self.wants > mark and self.gettimeout() != 0.0:
            self.starved.set()

    def _failed(self, exc: BaseException) -> None:
        """After a recv() that raised: a non-blocking read found nothing waiting (only now
        may the sender go on, or that read could have found the rest already there)."""
        if isinstance(exc, (BlockingIOError, socket.timeout)):
            self.gave_up = True
            if self.sent_mark is not None:
                self.starved.set()

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self._reading(bufsize, flags)
        self.reading_now += 1
        try:
            data = super().recv(bufsize, flags)
        except OSError as exc:
            self._failed(exc)
            raise
        finally:
            self.reading_now -= 1
        if not flags & _PEEK:
            self.delivered += len(data)
        return data

    def recv_into(self, buffer, nbytes: int = 0, flags: int = 0) -> int:
        self._reading(nbytes or memoryview(buffer).nbytes, flags)
        self.reading_now += 1
        try:
            count = super().recv_into(buffer, nbytes, flags)
        except OSError as exc:
            self._failed(exc)
            raise
        finally:
            self.reading_now -= 1
        if not flags & _PEEK:
            self.delivered += count
        return count


_PEEK = getattr(socket, "MSG_PEEK", 2)
_WAITALL = getattr(socket, "MSG_WAITALL", 0)


class ShortRecvSocket(CheckSocket):
    """A real socket whose ``recv(n)`` returns at most ``limit`` bytes (never more than n).

    ``recv`` may always return fewer bytes than asked; code that assumes otherwise fails
    here every time, not only on a congested network.  ``MSG_WAITALL`` is honoured.
    """

    limit = 1

    @classmethod
    def adopt(cls, sock: socket.socket, limit: int = 1) -> ShortRecvSocket:
        """``sock``'s connection in a ShortRecvSocket (``sock`` itself is then unusable)."""
        return adopt(cls, sock, limit=limit)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if not flags & getattr(socket, "MSG_WAITALL", 0):
            bufsize = min(bufsize, self.limit)
        return super().recv(bufsize, flags)

    def recv_into(self, buffer, nbytes: int = 0, flags: int = 0) -> int:
        if not flags & getattr(socket, "MSG_WAITALL", 0):
            size = nbytes or memoryview(buffer).nbytes
            nbytes = min(size, self.limit)
        return super().recv_into(buffer, nbytes, flags)


class ShortSendSocket(CheckSocket):
    """A real socket whose ``send(data)`` writes at most ``limit`` bytes and returns that,
    as an operating system may: the only way to catch ``send()`` where ``sendall()`` is
    needed on a fast loopback.  ``sendall`` still sends everything, as it must.
    """

    limit = 3

    @classmethod
    def adopt(cls, sock: socket.socket, limit: int = 3) -> ShortSendSocket:
        return adopt(cls, sock, limit=limit)

    def send(self, data, flags: int = 0) -> int:
        return super().send(memoryview(data).cast("B")[: self.limit], flags)


# -- watching the sockets learner code creates ------------------------------------------

#: thread ident -> the watch of the learner call running in that thread.
_watched_threads: dict[int, SocketWatch] = {}
_hook_lock = threading.Lock()
_hook_installed = False


def _audit(event: str, args: tuple) -> None:
    # Called by Python for every audited event in the process: return at once unless a
    # learner call is being watched right now.
    if not _watched_threads or not event.startswith("socket."):
        return
    watch = _watched_threads.get(threading.get_ident())
    if watch is not None:
        watch._saw(event, args)


def _install_hook() -> None:
    global _hook_installed
    with _hook_lock:
        if not _hook_installed:
            sys.addaudithook(_audit)  # cannot be removed; it does nothing unless watching
            _hook_installed = True


class _PassesChangesToSocket(type):
    """The type of a watched socket's class: learner code that changes ``type(sock)``
    believes it changes ``socket.socket``, so the change is made there too (where the
    grader's integrity check sees it), as well as on the watched class."""

    def __setattr__(cls, name: str, value: Any) -> None:
        setattr(socket.socket, name, value)
        super().__setattr__(name, value)


class SocketWatch:
    """What the sockets learner code creates and binds while a check watches it.

    Pass it to :class:`LearnerCall` / :func:`call_with_timeout` (``watch=``); the
    sockets created in that call's thread are in ``created``, every ``bind()`` in
    ``binds`` as ``(socket, address)``.  With ``short_send=True`` every plain socket the
    learner's code creates writes at most 3 bytes per ``send()``, as a busy operating
    system may: ``send()`` where ``sendall()`` is needed then fails every time, on every
    platform.  It uses Python's audit events (``socket.__new__``, ``socket.bind``), so
    nothing in the ``socket`` module is patched and other threads are not affected.
    """

    def __init__(self, *, short_send: bool = False):
        _install_hook()
        self.short_send = short_send
        self.created: list[socket.socket] = []
        self.binds: list[tuple[socket.socket, Any]] = []
        self.shutdowns: list[int] = []  # the ``how`` of every shutdown() call
        self._class = self._watched_class()

    def _watched_class(self) -> type:
        """The class a plain socket created by the learner's code takes on: a
        ``socket.socket`` that tells this watch of each ``shutdown()`` and, with
        ``short_send``, writes at most 3 bytes per ``send()``.  No ``__dict__``
        (``__slots__ = ()``), so a plain socket can take this class in place."""
        watch = self

        class WatchedSocket(socket.socket, metaclass=_PassesChangesToSocket):
            __slots__ = ()

            def shutdown(self, how: int) -> None:
                watch.shutdowns.append(how)
                super().shutdown(how)

            if watch.short_send:

                def send(self, data, flags: int = 0) -> int:
                    return super().send(memoryview(data).cast("B")[: ShortSendSocket.limit], flags)

        # Named as errors name a socket; set on this class only (not passed to socket.socket).
        for name, value in (
            ("__qualname__", "socket"),
            ("__name__", "socket"),
            ("__module__", "socket"),
        ):
            type.__setattr__(WatchedSocket, name, value)
        return WatchedSocket

    def _saw(self, event: str, args: tuple) -> None:
        if event == "socket.__new__":
            sock = args[0]
            self.created.append(sock)
            if type(sock) is socket.socket:
                sock.__class__ = self._class
        elif event == "socket.bind":
            self.binds.append((args[0], args[1]))

    def ports_bound(self, sock: socket.socket) -> list[int]:
        """The ports the learner's code passed to ``sock.bind()``."""
        ports = []
        for bound, address in self.binds:
            if bound is sock and isinstance(address, tuple) and len(address) >= 2:
                ports.append(address[1])
        return ports

    def timeouts(self) -> list[float | None]:
        """The timeouts of the sockets the learner's code created (still open or not)."""
        found = []
        for sock in self.created:
            with contextlib.suppress(OSError):
                found.append(sock.gettimeout())
        return found

    @contextlib.contextmanager
    def this_thread(self) -> Iterator[None]:
        """Watch the current thread for as long as the block runs."""
        ident = threading.get_ident()
        _watched_threads[ident] = self
        try:
            yield
        finally:
            _watched_threads.pop(ident, None)


class LearnerCall:
    """``fn(*args)`` run in a daemon thread of its own, so a check can wait for it with a
    time limit (a call that never returns must not freeze the notebook).

    Create it, ``start()`` it, then ``join(timeout)`` and ``result()``; or use
    :func:`call_with_timeout` for all of that at once.  With ``watch``, the sockets the
    call creates are seen by that :class:`SocketWatch`.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, watch: SocketWatch | None = None):
        self._outcome: dict = {}

        def target() -> None:
            with watch.this_thread() if watch else contextlib.nullcontext():
                try:
                    self._outcome["value"] = fn(*args)
                except BaseException as exc:  # re-raised in the checking thread by result()
                    self._outcome["error"] = exc

        self.thread = threading.Thread(target=target, name="tcplessons check", daemon=True)

    def start(self) -> LearnerCall:
        self.thread.start()
        return self

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; True if the call has returned (or raised)."""
        self.thread.join(timeout)
        return not self.thread.is_alive()

    @property
    def done(self) -> bool:
        return not self.thread.is_alive()

    def result(self) -> Any:
        """What the call returned; re-raises what it raised."""
        if "error" in self._outcome:
            raise self._outcome["error"]
        return self._outcome.get("value")


def call_with_timeout(
    fn: Callable[..., Any],
    *args: Any,
    timeout: float = CALL_TIMEOUT,
    call: str = "",
    hint: str = "",
    watch: SocketWatch | None = None,
) -> Any:
    """Call ``fn(*args)`` in a daemon thread; return its result or re-raise its exception.

    If it has not returned after ``timeout`` seconds, raise :class:`CheckFailed` naming
    the call; the caller should then close the sockets it handed over, which usually
    unblocks the thread.
    """
    running = LearnerCall(fn, *args, watch=watch).start()
    if not running.join(timeout):
        name = call or f"{getattr(fn, '__name__', 'your function')}(…)"
        raise CheckFailed(
            f"{name} did not return within {timeout:g} s",
            hint=hint
            or "it is probably waiting in recv() or accept() for data that will never come",
        )
    return running.result()


def pause_for(*timeouts: float | None) -> float:
    """How long a mid-stream pause must last: :data:`PAUSE`, or a little longer than the
    idle timeout the learner's code put on its socket when that is a few seconds (a
    safety-net timeout of 5 s or more is not waited out: the checks would crawl)."""
    shorter = [t for t in timeouts if t and t < MAX_WAITED_OUT]
    return max(PAUSE, max(shorter, default=0.0) + 0.5)


def send_in_chunks(
    sock: socket.socket,
    data: bytes,
    size: int,
    *,
    hang_up: bool = False,
    pause_at: int | None = None,
    pause: Callable[[], float] = lambda: PAUSE,
    progress: list | None = None,
    reader: CheckSocket | None = None,
    already_sent: int = 0,
) -> threading.Thread:
    """Start a thread that writes ``data`` to ``sock`` in pieces of ``size`` bytes.

    With ``pause_at``, it stops after that many bytes, as a person typing or a busy
    network does: first until ``reader`` (the learner's :class:`CheckSocket`, if given)
    has read everything sent so far and asks for more, then for ``pause()`` seconds
    (asked when the pause starts; pass ``lambda: 0`` for no extra wait).
    ``already_sent``: bytes the check wrote on this line before (preloaded).  With
    ``hang_up=True`` it then shuts down the write side (the reader sees ``b""``).
    Returns the thread; join it (with a timeout) when the check is done.  Errors such as
    the reader closing early are swallowed: the check judges what the reader did.  With
    ``progress`` (a one-item list) the bytes sent so far are kept in it; while pausing,
    the thread's ``pausing`` attribute is True.
    """
    stop = threading.Event()
    pieces = [data[start : start + size] for start in range(0, len(data), size)]
    if pause_at is not None:  # split the piece the pause falls in
        pieces = []
        for start in range(0, len(data), size):
            piece = data[start : start + size]
            if start < pause_at < start + len(piece):
                pieces += [piece[: pause_at - start], None, piece[pause_at - start :]]
            else:
                pieces += [None, piece] if start == pause_at else [piece]

    def write() -> None:
        count = 0
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for piece in pieces:
                if piece is None:
                    thread.pausing = True
                    if reader is not None:
                        reader.wait_for_reader(already_sent + count, CALL_TIMEOUT)
                    stop.wait(pause())
                    thread.pausing = False
                    continue
                sock.sendall(piece)
                count += len(piece)
                if progress is not None:
                    progress[0] = count
            if hang_up:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    thread = threading.Thread(target=write, name="tcplessons sender", daemon=True)
    thread.pausing = False
    thread.start()
    return thread


def recv_until_closed(
    sock: socket.socket, limit: int = 64 * 1024 * 1024, progress: list | None = None
) -> bytes:
    """Read until the peer hangs up (or ``limit`` bytes); a timeout ends it early too.

    With ``progress`` (a one-item list), the number of bytes read so far is kept in it,
    so another thread can watch the reading go on."""
    chunks, total = [], 0
    while total < limit:
        try:
            data = sock.recv(65536)
        except (TimeoutError, OSError):
            break
        if not data:
            break
        chunks.append(data)
        total += len(data)
        if progress is not None:
            progress[0] = total
    return b"".join(chunks)


def blocking_with_os_timeouts(sock: socket.socket, seconds: float = 5.0) -> socket.socket:
    """Put ``sock`` in blocking mode, as a server's accepted socket is, so every correct
    solution works (``MSG_WAITALL`` waits only on a blocking socket); the kernel's own
    timeouts (SO_RCVTIMEO, SO_SNDTIMEO) still bound each call in case the learner's code
    waits for something that never comes."""
    sock.settimeout(None)
    if sys.platform == "win32":
        value = struct.pack("I", int(seconds * 1000))
    else:
        value = struct.pack("ll", int(seconds), int((seconds - int(seconds)) * 1_000_000))
    for option in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, option, value)
    return sock


def reset(sock: socket.socket) -> None:
    """Close ``sock`` with a reset (RST) instead of a goodbye (FIN), as a caller whose
    program crashed or whose network vanished does: the other side's next ``recv()``
    raises ConnectionResetError (or returns b"") and its sends fail."""
    linger = struct.pack("hh" if sys.platform == "win32" else "ii", 1, 0)
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    sock.close()


def shut_down_and_close(sock: socket.socket) -> None:
    """shutdown() wakes a thread blocked in recv() on this socket (on Linux and macOS;
    on Windows the blocked call ends with the socket's own timeout); then close()."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
