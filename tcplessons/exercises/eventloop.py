"""Checks for lesson 07's exercise ``echo_loop(listener, wakeup)``.

The contract: in the calling thread, with one selector and non-blocking sockets, accept
callers on ``listener`` and echo every byte each sends back to that caller.  A caller who
hangs up (or resets) is unregistered and closed.  Never block on one caller; keep an
outbox per caller and watch for "writable" only while it holds bytes; stop reading from a
caller whose outbox holds more than 1 MiB until it drains below that.  A caller who
half-closes still gets the rest of its echo, then is closed.  When ``wakeup`` (one end of
a socket pair) becomes readable, close every caller and return quietly.

Each check runs the learner's ``echo_loop`` in a thread of its own on a fresh listener,
and talks to it with real sockets; every wait is bounded.  Two things make mistakes fail
every time instead of on a busy day:

- in the partial-send checks the listener hands out sockets whose ``send()`` takes at
  most 1000 bytes and returns that count, as a kernel with a full buffer does;
- in the backpressure check the listener's buffers are small and fixed (accepted sockets
  inherit them), so a loop that keeps reading from a caller who never reads lets that
  caller push many megabytes, while a loop that pauses at 1 MiB stops it at about 2.

Idle CPU is the loop thread's own CPU time while every caller is quiet, judged against a
reference busy-poll loop measured in the same second on the same machine (a loop that
sleeps in select() uses almost none; one that spins uses about as much as the reference),
so the verdict does not depend on the machine's speed or on how busy it is.

A loop that never comes back to select() (stuck in a blocking call) is named as such: the
check looks at where the loop thread is, a few times, and reports the learner's line.
"""

from __future__ import annotations

import linecache
import random
import select
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable

from ..measure import thread_cpu_seconds
from .model import CheckFailed, Exercise
from .registry import register
from .tools import LearnerCall, send_in_chunks, show_bytes

__all__ = ["echo_loop"]

LESSON = "07-event-loop"
#: Seconds to wait for something a working loop does at once (an echo, a close).
PROMPT = 3.0
#: Seconds to wait for echo_loop to return once woken.
RETURN_WAIT = 2.0
#: Bytes of unsent echo a caller may have before the loop stops reading from it.
LIMIT = 1 << 20
#: What a caller who never reads may push into a loop with backpressure, at most.
PUSH_LIMIT = 8 * LIMIT
#: Share of a reference busy-poll loop's CPU time an idle loop may use in IDLE_WINDOW s.
IDLE_SHARE = 0.25
IDLE_WINDOW = 1.0
#: Seconds to wait for echo_loop to return when a check is over (a courtesy, not a verdict).
EXIT_WAIT = 0.5
#: Seconds between looks at whether the learner's loop has ended, while waiting for data.
SLICE = 0.05

echo_loop = Exercise(
    "echo_loop",
    lesson=LESSON,
    summary=(
        "One thread, one selector: accept callers and echo their bytes without ever "
        "blocking; return when woken."
    ),
)

NONBLOCKING_HINT = (
    "make every accepted socket non-blocking (conn.setblocking(False)) and call recv() only "
    "on a socket the selector reported readable; one blocking call stalls every caller"
)
OUTBOX_HINT = (
    "send() returns how many bytes the operating system took, and may take only part: keep "
    "the rest in that caller's outbox (outbox = outbox[sent:]) and send it when the socket is "
    "writable"
)
FLUSH_HINT = (
    "when recv() returns b'' the caller only stopped sending: keep its connection until its "
    "outbox is empty, then unregister and close it"
)
WRITE_INTEREST_HINT = (
    "register EVENT_WRITE only while a caller's outbox holds bytes and drop it when the outbox "
    "empties (selector.modify(conn, EVENT_READ)); a socket with room in its buffer is always "
    "writable, so select() returns at once and the loop spins. Unregister and close a caller "
    "who hung up, too: a closed stream is always readable"
)
BACKPRESSURE_HINT = (
    "stop reading from a caller whose outbox holds more than 1 MiB (watch only EVENT_WRITE) and "
    "read again once it drains below that; otherwise a caller who never reads fills your memory"
)
WAKEUP_HINT = (
    "register wakeup with the selector for EVENT_READ; when it is readable (a byte arrived, or "
    "recv() gives b'' because the other end closed), close every caller and return (return, "
    "not break: break inside `for key, mask in events:` leaves only that for loop)"
)
STUCK_HINT = (
    "every call in the loop must return at once: call recv() once per readable event (not "
    "until b''), send() once per writable event (not sendall()), and go back to select(); "
    "make accepted sockets non-blocking (conn.setblocking(False))"
)
IDLE_HINT_SELECT = (
    " Call select() with no timeout (or one of a second or so): select(0) returns at once "
    "and turns the loop into a busy poll"
)
CLOSE_HINT = (
    "before returning, close every caller's socket (keep them in a dict or set to find them)"
)
RESET_HINT = (
    "a reset raises ConnectionResetError (an OSError) from recv() or send(): treat it like a "
    "hang-up (unregister and close that caller) and carry on with the others"
)


#: The learner's calls these checks started: the last check reports any still running.
_STARTED: list[LearnerCall] = []


class _CheckOver(BaseException):
    """Raised by the check's listener once the check is over (not an OSError on purpose)."""


class _CountedSocket(socket.socket):
    """A real socket that counts the learner's calls on it in ``calls[0]``.

    A loop stuck in a blocking call makes no more calls; a busy loop makes thousands.
    Looking only at where the loop thread is cannot tell them apart: a busy loop gives up
    the interpreter inside its socket calls, so every look may land on the same line.
    """

    calls = [0]  # replaced per check run by one list shared by all its sockets

    def recv(self, *args):
        self.calls[0] += 1
        return super().recv(*args)

    def recv_into(self, *args):
        self.calls[0] += 1
        return super().recv_into(*args)

    def send(self, data, flags: int = 0) -> int:
        self.calls[0] += 1
        return super().send(data, flags)

    def sendall(self, data, flags: int = 0) -> None:
        self.calls[0] += 1
        return super().sendall(data, flags)


class _ShortSendConn(_CountedSocket):
    """An accepted socket whose send() takes at most ``limit`` bytes, as a busy kernel may."""

    limit = 1000

    def send(self, data, flags: int = 0) -> int:
        return super().send(memoryview(data)[: self.limit], flags)


class _Listener(_CountedSocket):
    """A real listening socket; hands out counted (optionally short-send) sockets."""

    over = False
    short_sends = False

    def accept(self):
        self.calls[0] += 1
        if self.over:
            raise _CheckOver("this check is over; the listener is gone")
        conn, address = super().accept()
        timeout = conn.gettimeout()
        counted = (_ShortSendConn if self.short_sends else _CountedSocket)(fileno=conn.detach())
        counted.settimeout(timeout)
        counted.calls = self.calls
        conn = counted
        # Kept, so the check can see whether echo_loop closed it (and so that forgetting
        # to close it is not hidden by Python closing it when echo_loop's locals go).
        self.accepted.append(conn)
        return conn, address


class _Run:
    """One run of the learner's echo_loop, in a thread, on a fresh listener."""

    def __init__(
        self,
        fn: Callable,
        *,
        short_sends: bool = False,
        buffers: int | None = None,
        start: bool = True,
    ):
        self.start = start  # False: the check calls run.call.start() itself
        base = socket.create_server(("127.0.0.1", 0), backlog=64)
        if buffers:  # accepted sockets inherit these: fixed, small kernel buffers
            base.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, buffers)
            base.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffers)
        self.listener = _Listener(fileno=base.detach())
        self.listener.short_sends = short_sends
        self.listener.accepted = []
        self.listener.calls = [0]
        self.address = self.listener.getsockname()[:2]
        wakeup, self.waker = socket.socketpair()
        self.wakeup = _CountedSocket(fileno=wakeup.detach())
        self.wakeup.calls = self.listener.calls
        self.clients: list[socket.socket] = []
        self.call = LearnerCall(fn, self.listener, self.wakeup)
        _STARTED.append(self.call)

    def __enter__(self) -> _Run:
        if self.start:
            self.call.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self.call.thread.ident is None:  # the check failed before starting the loop
            self.call.start()
        try:
            self.waker.send(b"!")
        except OSError:
            pass
        for sock in [self.waker] + self.clients:
            _close(sock)
        self.call.join(EXIT_WAIT)
        self.listener.over = True
        if not self.call.join(0):
            # A loop that ignores wakeup: knock at the door, so that its accept() raises
            # _CheckOver and its thread ends instead of waiting for ever.
            try:
                socket.create_connection(self.address, timeout=1.0).close()
            except OSError:
                pass
            self.call.join(EXIT_WAIT)
        for sock in [self.listener, self.wakeup] + self.listener.accepted:
            _close(sock)  # a loop still running now waits on nothing, or fails

    def connect(self, receive_buffer: int | None = None) -> socket.socket:
        sock = socket.socket()
        if receive_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, receive_buffer)
        sock.settimeout(PROMPT)
        sock.connect(self.address)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.clients.append(sock)
        return sock

    def crashed(self) -> None:
        """If echo_loop already ended, say so (its exception is the learner's real problem)."""
        if self.call.join(0):
            self.call.result()  # re-raises what echo_loop raised (NotImplementedError too)
            raise CheckFailed(
                "echo_loop returned before it was woken",
                hint="keep looping until wakeup is readable; callers may arrive at any time",
            )

    def fail(self, what: str, **details) -> None:
        self.crashed()
        line = _stuck_at(self.call.thread, self.listener.calls)
        if line is not None:
            raise CheckFailed(
                # Not `what`: how far each caller got before the loop stuck depends on timing.
                "echo_loop never came back to select(); it is still waiting at "
                f"{line or 'a blocking call'}",
                hint=STUCK_HINT,
                cause="stuck",
            )
        raise CheckFailed(what, **details)

    def wake(self, how: str = "byte") -> None:
        if how == "byte":
            self.waker.send(b"!")
        else:
            self.waker.close()
        if not self.call.join(RETURN_WAIT):
            self.fail(
                f"echo_loop did not return within {RETURN_WAIT:g} s after wakeup {how_text(how)}",
                hint=WAKEUP_HINT,
            )
        self.call.result()  # returning quietly means no exception

    def expect_echo(
        self,
        sock: socket.socket,
        data: bytes,
        what: str,
        hint: str = NONBLOCKING_HINT,
        cause: str = "",
    ) -> None:
        got = _read(sock, len(data), run=self)
        if got == data:
            return
        if len(data) > 100:
            # How much of a long echo arrives depends on timing: the report names no count.
            self.fail(
                f"{what}: only part of the {len(data)} bytes came back intact",
                sent=show_bytes(data),
                hint=hint,
                cause=cause,
            )
        if data.startswith(got):
            self.fail(
                f"{what}: only {len(got)} of {len(data)} bytes came back",
                sent=show_bytes(data),
                got=show_bytes(got),
                hint=hint,
                cause=cause,
            )
        self.fail(
            f"{what}: the echo differs from what was sent",
            sent=show_bytes(data),
            got=show_bytes(got),
            hint=OUTBOX_HINT,
        )


def _where(thread: threading.Thread):
    """(code, instruction, in select?, learner line) of where ``thread`` is now, or None."""
    frame = sys._current_frames().get(thread.ident)
    if frame is None:
        return None
    code = frame.f_code
    in_select = code.co_name == "select" or code.co_filename.endswith("selectors.py")
    line = ""
    while frame is not None:  # the innermost frame of the learner's own code
        name = frame.f_code.co_filename
        if "tcplessons" not in name and "python3" not in name and "lib/python" not in name:
            line = linecache.getline(name, frame.f_lineno).strip()
            break
        frame = frame.f_back
    if not in_select and "select(" in line:
        in_select = True  # select.select() itself is written in C: no frame of its own
    return code, sys._current_frames().get(thread.ident).f_lasti, in_select, line


def _stuck_at(thread: threading.Thread, calls: list[int]) -> str | None:
    """The line a loop thread is stuck on, if it sat outside select() at one place throughout
    a few looks and made no socket call meanwhile (``calls[0]`` counts them: a working loop
    is either in select() or moving); else None."""
    looks = []
    calls_before = calls[0]
    for _ in range(5):
        if not thread.is_alive():
            return None
        where = _where(thread)
        if where is None or where[2]:
            return None
        looks.append(where)
        threading.Event().wait(SLICE)
    if calls[0] != calls_before or len({(code, lasti) for code, lasti, _, _ in looks}) != 1:
        return None
    line = looks[-1][3]
    return f"`{line}`" if line else ""


def _spin_reference(stop: threading.Event, used: list) -> None:
    """A busy-poll loop, the kind the idle check must catch: select() with a zero timeout."""
    started = time.thread_time()
    while not stop.is_set():
        select.select([], [], [], 0)
    used.append(time.thread_time() - started)


def _reference_spin_cpu(window: float, alongside=None) -> float:
    """CPU seconds a busy-poll thread gets in ``window`` s; ``alongside()`` runs meanwhile."""
    stop, used = threading.Event(), []
    spinner = threading.Thread(target=_spin_reference, args=(stop, used), daemon=True)
    spinner.start()
    try:
        if alongside is not None:
            alongside()
        else:
            threading.Event().wait(window)
    finally:
        stop.set()
        spinner.join(PROMPT)
    return used[0] if used else 0.0


def how_text(how: str) -> str:
    return "got a byte" if how == "byte" else "had its other end closed"


def _read(sock: socket.socket, n: int, timeout: float = PROMPT, run: _Run | None = None) -> bytes:
    """Up to ``n`` bytes, waiting while they keep coming (at most ``timeout`` s of silence).

    With ``run``, a loop that has already ended is reported at once instead of waited for.
    """
    parts, got = [], 0
    sock.settimeout(SLICE)
    silent = 0.0
    while got < n:
        try:
            part = sock.recv(min(1 << 20, n - got))
        except TimeoutError:
            silent += SLICE
            if run is not None and run.call.join(0):
                run.crashed()
            if silent >= timeout:
                break
            continue
        except OSError:
            break
        if not part:
            break
        silent = 0.0
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _hears_hang_up(sock: socket.socket, timeout: float = PROMPT) -> bool:
    """Whether the server closed this line (b'' or a reset) within ``timeout`` s."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except TimeoutError:
        return False
    except OSError:
        return True
    return False


def _close(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass


def _reset(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _raw(n: int, seed: int) -> bytes:
    """``n`` bytes that are not text (every byte value, in a fixed order)."""
    return random.Random(seed).randbytes(n)


@echo_loop.check("echoes a caller's bytes, then closes it and returns when wakeup gets a byte")
def _(fn):
    _STARTED.clear()  # the first check: count only this run's loops in the last one
    with _Run(fn) as run:
        sock = run.connect()
        sock.sendall(b"hello, loop")
        run.expect_echo(sock, b"hello, loop", "one caller sent b'hello, loop'", cause="no echo")
        other = run.connect()
        other.sendall(b"me too")
        run.expect_echo(other, b"me too", "a second caller sent b'me too'", cause="no echo")
        run.wake("byte")
        still_open = [conn for conn in run.listener.accepted if conn.fileno() != -1]
        if still_open or not all(_hears_hang_up(caller) for caller in (sock, other)):
            raise CheckFailed(
                "a caller's connection was still open after echo_loop returned", hint=CLOSE_HINT
            )


@echo_loop.check("returns when the other end of wakeup is closed")
def _(fn):
    with _Run(fn) as run:
        sock = run.connect()
        sock.sendall(b"ping")
        run.expect_echo(sock, b"ping", "one caller sent b'ping'", cause="no echo")
        run.wake("close")


@echo_loop.check("echoes raw bytes sent in pieces of 1, 5 and 4096 bytes by three callers at once")
def _(fn):
    with _Run(fn) as run:
        plan = [(1, _raw(2000, 1)), (5, _raw(20_000, 2)), (4096, _raw(200_000, 3))]
        socks = [run.connect() for _ in plan]
        senders = [
            send_in_chunks(sock, data, size) for sock, (size, data) in zip(socks, plan, strict=True)
        ]
        for sock, (size, data) in zip(socks, plan, strict=True):
            run.expect_echo(
                sock, data, f"a caller sent {len(data)} bytes in pieces of {size}", hint=OUTBOX_HINT
            )
        for sender in senders:
            sender.join(PROMPT)


@echo_loop.check("serves 30 callers at once, each gets its own bytes back")
def _(fn):
    with _Run(fn) as run:
        socks = [run.connect() for _ in range(30)]
        for round_ in range(3):
            for i, sock in enumerate(socks):
                sock.sendall(f"caller {i} round {round_}\n".encode())
        for i, sock in enumerate(socks):
            data = b"".join(f"caller {i} round {r}\n".encode() for r in range(3))
            run.expect_echo(sock, data, f"caller {i} of 30", cause="no echo")


@echo_loop.check("a silent caller does not hold up the others (no blocking recv)")
def _(fn):
    with _Run(fn) as run:
        silent = run.connect()
        talker = run.connect()
        talker.sendall(b"anyone there?")
        got = _read(talker, 13, run=run)
        if got != b"anyone there?":
            run.fail(
                "a caller got no echo while another caller stayed silent",
                sent="caller 1 connected and sent nothing; caller 2 sent b'anyone there?'",
                got=show_bytes(got),
                expected="b'anyone there?' at once",
                hint=NONBLOCKING_HINT,
            )
        silent.sendall(b"me too")
        run.expect_echo(silent, b"me too", "the silent caller finally spoke", cause="no echo")


@echo_loop.check("a partial send() keeps the unsent rest in the caller's outbox")
def _(fn):
    with _Run(fn, short_sends=True) as run:
        sock = run.connect()
        data = _raw(50_000, 4)
        sender = send_in_chunks(sock, data, 4096)
        run.expect_echo(
            sock,
            data,
            "the operating system took at most 1000 bytes per send()",
            hint=OUTBOX_HINT,
            cause="partial send",
        )
        sender.join(PROMPT)


@echo_loop.check("a caller who half-closes (SHUT_WR) gets the rest of its echo, then is closed")
def _(fn):
    with _Run(fn, short_sends=True, start=False) as run:
        sock = run.connect()
        data = _raw(100_000, 5)
        sender = send_in_chunks(sock, data, 65536, hang_up=True)
        # The loop starts only once the whole message and the half-close wait for it (they
        # fit in the buffers of a call not yet accepted): a loop that closes on b'' then
        # always meets it with most of the echo still in the outbox, however busy the day.
        sender.join(PROMPT)
        run.call.start()
        run.expect_echo(
            sock,
            data,
            "the caller sent 100000 bytes, then shutdown(SHUT_WR)",
            hint=FLUSH_HINT,
            cause="partial send",
        )
        if not _hears_hang_up(sock):
            run.fail(
                "the loop never closed a caller who had hung up and had all its echo",
                hint=FLUSH_HINT,
            )
        sender.join(PROMPT)


@echo_loop.check("a caller who resets counts as a hang-up; the others are still served")
def _(fn):
    with _Run(fn) as run:
        rude = run.connect()
        rude.sendall(b"bye")
        run.expect_echo(rude, b"bye", "a caller sent b'bye'", cause="no echo")
        rude.sendall(b"more")  # arrives while we reset: the loop sees the reset mid-echo
        _reset(rude)
        run.clients.remove(rude)
        polite = run.connect()
        polite.sendall(b"still open?")
        got = _read(polite, 11)
        if got != b"still open?":
            if run.call.join(RETURN_WAIT):  # a loop that crashed may still be closing up
                try:
                    run.call.result()
                except (NotImplementedError, CheckFailed):
                    raise
                except Exception as exc:
                    raise CheckFailed(
                        f"echo_loop raised {type(exc).__name__} after a caller reset its "
                        "connection",
                        hint=RESET_HINT,
                    ) from None
            raise CheckFailed(
                "after one caller reset, the next caller got no echo",
                got=show_bytes(got),
                hint=RESET_HINT,
            )


@echo_loop.check(
    "an idle loop sleeps in select(): no write interest while nothing waits to be sent"
)
def _(fn):
    with _Run(fn) as run:
        socks = [run.connect() for _ in range(5)]
        for i, sock in enumerate(socks):
            sock.sendall(b"hi %d" % i)
            run.expect_echo(sock, b"hi %d" % i, f"caller {i}", cause="no echo")
        gone = socks.pop()
        gone.close()  # one caller hung up: it must be unregistered, not read forever
        run.clients.remove(gone)
        measured = {}

        def measure_loop() -> None:
            before = thread_cpu_seconds(run.call.thread)
            threading.Event().wait(IDLE_WINDOW)
            measured["loop"] = thread_cpu_seconds(run.call.thread) - before

        if hasattr(time, "pthread_getcpuclockid"):  # one thread's CPU time: measure side by side
            reference = _reference_spin_cpu(IDLE_WINDOW, alongside=measure_loop)
        else:  # only the whole process's: measure the loop alone, then the reference alone
            measure_loop()
            reference = _reference_spin_cpu(IDLE_WINDOW)
        used = measured["loop"]
        if used > IDLE_SHARE * reference:
            hint = WRITE_INTEREST_HINT + "." + IDLE_HINT_SELECT
            run.fail(
                "with every caller quiet, the loop thread used over a quarter of the CPU time "
                "that a busy-poll loop measured in the same second got",
                expected="about none (a loop with nothing to do waits in select())",
                hint=hint,
            )
        for i, sock in enumerate(socks):
            sock.sendall(b"again %d" % i)
            run.expect_echo(
                sock, b"again %d" % i, f"caller {i} after the quiet second", cause="no echo"
            )


@echo_loop.check(
    "a caller who never reads: reading pauses at 1 MiB of outbox, the others are still served"
)
def _(fn):
    with _Run(fn, buffers=65536) as run:
        hog = run.connect(receive_buffer=4096)
        hog.setblocking(False)
        chunk = _raw(65536, 6)
        pushed, stalled_since = 0, None
        deadline = time.monotonic() + 20
        while pushed <= PUSH_LIMIT and time.monotonic() < deadline:
            try:
                pushed += hog.send(chunk)
                stalled_since = None
            except BlockingIOError:
                now = time.monotonic()
                stalled_since = stalled_since or now
                if now - stalled_since > 1.0 or run.call.join(0):
                    break
                time.sleep(0.005)
            except OSError:
                break
        other = run.connect()
        other.sendall(b"my turn")
        got = _read(other, 7, run=run)
        if got != b"my turn":
            run.fail(
                "while one caller sent without reading, another caller got no echo",
                got=show_bytes(got),
                hint="never call sendall() in the loop: it blocks until a caller reads. "
                + OUTBOX_HINT,
            )
        if pushed > PUSH_LIMIT:
            run.fail(
                f"a caller who never reads pushed over {PUSH_LIMIT // LIMIT} MiB into the loop "
                "and it kept reading",
                expected="reading stops once that caller's outbox holds over 1 MiB",
                hint=BACKPRESSURE_HINT,
            )
        # Now read it all: the loop must resume reading and send every byte back.
        hog.setblocking(True)
        got_back = len(_read(hog, pushed, run=run))
        if got_back != pushed:
            run.fail(
                "once the caller read again, only part of the bytes it sent came back",
                hint="read from a paused caller again once its outbox drains below 1 MiB; and if "
                "send() took only part, keep the rest in the outbox (see the partial-send check)",
            )


@echo_loop.check("every echo_loop these checks started has returned (no thread left running)")
def _(fn):
    calls, alive = list(_STARTED), [call for call in _STARTED if not call.join(EXIT_WAIT)]
    _STARTED[:] = alive  # the ended ones are forgotten; a later run reports these again
    for call in calls:
        try:
            call.result()
        except NotImplementedError:
            raise
        except BaseException:  # reported by the check that started it
            pass
    if alive:
        raise CheckFailed(
            f"{len(alive)} of the loop threads these checks started are still running: "
            "echo_loop never returned, even after its callers and listener were closed. "
            "They keep running in this notebook: restart the notebook's kernel to end them "
            "(Kernel > Restart) once you have fixed echo_loop",
            hint=WAKEUP_HINT,
        )


register(echo_loop)
