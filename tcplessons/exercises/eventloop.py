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
  caller push many megabytes, while a loop that pauses at 1 MiB stops it at about 2;
- in the reset check one caller resets while the loop has nothing to send it (the reset
  meets recv()), and another resets the moment the loop sends to it: its accepted socket
  lets the real RST in just before that send() goes out, so a loop that handles errors
  only around recv() fails on every run, not only when the timing is unlucky.

Idle CPU is the loop thread's own CPU time while every caller is quiet, judged against a
reference busy-poll loop measured in the same second on the same machine (a loop that
sleeps in select() uses almost none; one that spins uses about as much as the reference),
so the verdict does not depend on the machine's speed or on how busy it is.

A loop that never comes back to select() (stuck in a blocking call) is named as such: the
check looks at where the loop thread is, a few times, and reports the learner's line.

The check's side lives in neighbouring modules: the harness (the loop's thread, its
listener and callers) in :mod:`._eventloop_harness`, the watch on the loop thread (stuck?
how much CPU does a busy loop get?) in :mod:`._eventloop_watch`, timings, limits and hints
in :mod:`._eventloop_terms`.
"""

from __future__ import annotations

import threading
import time
from selectors import EVENT_WRITE

from ..measure import thread_cpu_seconds
from ._eventloop_harness import _STARTED, _hears_hang_up, _raw, _read, _reset, _Run
from ._eventloop_terms import (
    BACKPRESSURE_HINT,
    CLOSE_HINT,
    EXIT_WAIT,
    FLUSH_HINT,
    HUNG_UP_SPIN_HINT,
    IDLE_HINT_SELECT,
    IDLE_SHARE,
    IDLE_WINDOW,
    LIMIT,
    NONBLOCKING_HINT,
    OUTBOX_HINT,
    PROMPT,
    PUSH_LIMIT,
    RESET_HINT,
    RESET_KEPT_HINT,
    RESET_SEND_HINT,
    RETURN_WAIT,
    SLICE,
    WAKEUP_HINT,
    WRITE_INTEREST_HINT,
)
from ._eventloop_watch import _reference_spin_cpu, _selectors_of
from .model import CheckFailed, Exercise
from .registry import register
from .tools import send_in_chunks, show_bytes

__all__ = ["echo_loop"]

LESSON = "07-event-loop"

echo_loop = Exercise(
    "echo_loop",
    lesson=LESSON,
    summary=(
        "One thread, one selector: accept callers and echo their bytes without ever "
        "blocking; return when woken."
    ),
)


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
        still_open = [conn for conn in run.listener.accepted.values() if conn.fileno() != -1]
        if still_open or not all(_hears_hang_up(caller) for caller in (sock, other)):
            raise CheckFailed(
                "a caller's connection was still open after echo_loop returned", hint=CLOSE_HINT
            )
        closed = [name for name in ("listener", "wakeup") if getattr(run, name).fileno() == -1]
        if closed:
            raise CheckFailed(
                f"echo_loop closed {' and '.join(closed)}",
                expected="only the callers' connections closed",
                hint="listener and wakeup belong to whoever called echo_loop (it closes them "
                "itself, or starts another loop on them): close only the callers' sockets",
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
        # One caller resets while the loop waits to read from it (its echo all sent) ...
        rude = run.connect()
        rude.sendall(b"bye")
        run.expect_echo(rude, b"bye", "a caller sent b'bye'", cause="no echo")
        gone = [rude]
        _reset(rude)
        run.clients.remove(rude)
        polite = run.connect()
        _served_after_reset(run, polite, b"still open?", "waiting to read from it", RESET_HINT)
        # ... another just as the loop sends it its echo: the reset meets send().
        rude = run.connect(resets_on_send=True)
        rude.sendall(b"last words")
        run.clients.remove(rude)  # closed by the reset
        if not run.resets_met[rude].wait(PROMPT):
            run.fail("a caller sent b'last words' and no echo was ever sent back", hint=OUTBOX_HINT)
        _served_after_reset(run, polite, b"still here?", "sending it its echo", RESET_SEND_HINT)
        gone.append(rude)
        lines = [line for line in map(run.line_of, gone) if line is not None]
        deadline = time.monotonic() + PROMPT
        while any(line.fileno() != -1 for line in lines):
            if time.monotonic() > deadline:
                run.fail(
                    "the loop never closed a caller whose connection was reset",
                    hint=RESET_KEPT_HINT,
                )
            threading.Event().wait(SLICE)


def _served_after_reset(run: _Run, polite, data: bytes, when: str, hint: str) -> None:
    """``polite`` sends ``data`` and must get it back, although a caller just reset while
    the loop was ``when``."""
    polite.sendall(data)
    got = _read(polite, len(data))
    if got == data:
        return
    if run.call.join(RETURN_WAIT):  # a loop that crashed may still be closing up
        try:
            run.raise_what_ended_it()
        except (NotImplementedError, CheckFailed):
            raise
        except Exception as exc:
            raise CheckFailed(
                f"echo_loop raised {type(exc).__name__} after a caller reset its connection "
                f"while the loop was {when}",
                hint=hint,
            ) from None
    run.fail(
        f"after a caller reset its connection while the loop was {when}, another caller got "
        "no echo",
        got=show_bytes(got),
        hint=hint,
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
            hint = _why_idle_loop_spins(run, run.line_of(gone))
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


def _why_idle_loop_spins(run: _Run, gone) -> str:
    """The hint for a loop that spins while every caller is quiet: what it still watches."""
    if gone is not None and gone.fileno() != -1:
        return HUNG_UP_SPIN_HINT
    found = _selectors_of(run.call.thread)
    if not found:  # select.select() with lists, say: name every cause
        return f"{WRITE_INTEREST_HINT}; {IDLE_HINT_SELECT}; {HUNG_UP_SPIN_HINT}"
    callers = set(run.listener.accepted.values())
    for selector in found:
        try:
            keys = list(selector.get_map().values())
        except (RuntimeError, ValueError, AttributeError):  # closed meanwhile
            continue
        if any(k.fileobj in callers and k.events & EVENT_WRITE for k in keys):
            return WRITE_INTEREST_HINT
    return IDLE_HINT_SELECT


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
