"""The check's side of an ``echo_loop`` check (lesson 07): the loop under test and its callers.

:class:`_Run` starts the learner's ``echo_loop`` in a thread of its own on a fresh
:class:`_Listener`, connects callers to it, reads their echo (:func:`_read`) and wakes the
loop at the end; every wait is bounded.  The listener hands out counted sockets, optionally
ones whose ``send()`` takes at most 1000 bytes, so a loop's socket calls can be told from a
loop stuck in one.

The timings and hints are in :mod:`._eventloop_terms`; where a stuck loop sits is found by
:mod:`._eventloop_watch`; the checks are in :mod:`.eventloop`.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections.abc import Callable

from ..waiting import wait_until_ready
from ._eventloop_terms import (
    BLOCKING_IO_HINT,
    EXIT_WAIT,
    NONBLOCKING_HINT,
    OUTBOX_HINT,
    PROMPT,
    RETURN_WAIT,
    SLICE,
    WAKEUP_HINT,
    stuck_hint,
)
from ._eventloop_watch import _stuck_at
from .model import CheckFailed, learner_line
from .tools import LearnerCall, show_bytes

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
    #: The caller's end and an event to set, when the check wants the caller to reset
    #: just as the loop sends to it.
    reset_peer: tuple[socket.socket, threading.Event] | None = None

    def recv(self, *args):
        self.calls[0] += 1
        return super().recv(*args)

    def recv_into(self, *args):
        self.calls[0] += 1
        return super().recv_into(*args)

    def send(self, data, flags: int = 0) -> int:
        self.calls[0] += 1
        self._meet_reset()
        return super().send(data, flags)

    def sendall(self, data, flags: int = 0) -> None:
        self.calls[0] += 1
        self._meet_reset()
        return super().sendall(data, flags)

    def _meet_reset(self) -> None:
        """If armed, the caller resets now, between the loop's recv() and its send().

        On a busy day a reset can arrive at any moment; here it arrives at the worst
        one, every run: the real RST is in before this send() goes out, so the send()
        raises, as it would (ConnectionResetError on Linux, BrokenPipeError elsewhere).
        """
        armed, self.reset_peer = self.reset_peer, None
        if armed is not None:
            peer, done = armed
            _reset(peer)
            wait_until_ready([self], [], PROMPT)  # readable: the RST has arrived
            done.set()


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
        conn.reset_peer = self.resets_on_send.pop(address, None)
        # Kept, so the check can see whether echo_loop closed it (and so that forgetting
        # to close it is not hidden by Python closing it when echo_loop's locals go).
        self.accepted[address] = conn
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
        self.listener.accepted = {}  # the caller's address -> the loop's end of its line
        self.listener.resets_on_send = {}  # the caller's address -> (its socket, an Event)
        self.listener.calls = [0]
        self.address = self.listener.getsockname()[:2]
        wakeup, self.waker = socket.socketpair()
        self.wakeup = _CountedSocket(fileno=wakeup.detach())
        self.wakeup.calls = self.listener.calls
        self.clients: list[socket.socket] = []
        self._addresses: dict[socket.socket, tuple] = {}
        #: For each caller connected with resets_on_send: set once it has reset.
        self.resets_met: dict[socket.socket, threading.Event] = {}
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
        for sock in [self.listener, self.wakeup, *self.listener.accepted.values()]:
            _close(sock)  # a loop still running now waits on nothing, or fails

    def connect(
        self, receive_buffer: int | None = None, *, resets_on_send: bool = False
    ) -> socket.socket:
        """A new caller.  ``resets_on_send``: it resets its connection the moment the
        loop first sends to it (see :meth:`_CountedSocket._meet_reset`)."""
        sock = socket.socket()
        if receive_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, receive_buffer)
        sock.settimeout(PROMPT)
        if resets_on_send:
            sock.bind(("127.0.0.1", 0))  # its address is known before the loop accepts it
            self.resets_met[sock] = threading.Event()
            self.listener.resets_on_send[sock.getsockname()] = (sock, self.resets_met[sock])
        sock.connect(self.address)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.clients.append(sock)
        self._addresses[sock] = sock.getsockname()[:2]  # still known once sock is closed
        return sock

    def line_of(self, caller: socket.socket) -> socket.socket | None:
        """The loop's end of ``caller``'s line (None if the loop never accepted it)."""
        return self.listener.accepted.get(self._addresses[caller])

    def crashed(self) -> None:
        """If echo_loop already ended, say so (its exception is the learner's real problem)."""
        if self.call.join(0):
            self.raise_what_ended_it()
            raise CheckFailed(
                "echo_loop returned before it was woken",
                hint="keep looping until wakeup is readable; callers may arrive at any time",
            )

    def raise_what_ended_it(self) -> None:
        """Re-raise what the ended echo_loop raised (NotImplementedError too), naming
        BlockingIOError's cause; nothing if it returned quietly."""
        try:
            self.call.result()
        except BlockingIOError as exc:
            raise CheckFailed(
                f"echo_loop raised BlockingIOError{learner_line(exc)}",
                hint=BLOCKING_IO_HINT,
            ) from None

    def fail(self, what: str, **details) -> None:
        self.crashed()
        line = _stuck_at(self.call.thread, self.listener.calls)
        if line is not None:
            raise CheckFailed(
                # Not `what`: how far each caller got before the loop stuck depends on timing.
                "echo_loop never came back to select(); it is still waiting at "
                f"{line or 'a blocking call'}",
                hint=stuck_hint(line),
                cause=f"stuck at {line}",  # stuck elsewhere is another problem, with its hint
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
