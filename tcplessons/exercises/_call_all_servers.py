"""The servers of lesson 07's ``call_all`` checks: one-caller servers in threads, with
real sockets on 127.0.0.1.

A :class:`_Server` replies only once it has the whole message (the client half-closed),
and only once its ``go`` event is set, so a check decides the order in which servers
reply (:func:`_in_turn`, :func:`_release_together`) without judging speed.  A "silent"
server pokes its connection when asked, to see whether the caller closed it
(:func:`_closed_by_peer`); a "reset" one drops the line with a reset.  :func:`_stop`
ends them all.  The checks are in :mod:`.async_clients`; the learner's coroutine runs
on the loop of :mod:`._call_all_runner`.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable

__all__: list[str] = []

#: Seconds the check's servers wait for each other before giving up on "at once".
TOGETHER = 3.0
#: Seconds a server waits for a connection or a message at most.
SERVER_WAIT = 10.0
#: Seconds the silent server waits for a reset after poking a caller who should have closed.
PROBE = 3.0


class _Server:
    """A one-caller server in a thread.  ``mode``: "reply", "silent" or "reset"."""

    def __init__(self, mode: str, *, reply: Callable[[bytes], bytes] = lambda m: b"reply to " + m):
        self.mode, self.reply = mode, reply
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(SERVER_WAIT)
        self.address = self.listener.getsockname()[:2]
        self.received = b""
        self.got_eof = threading.Event()
        self.done = threading.Event()  # replied and closed (or gave up)
        self.go = threading.Event()  # set when this server may reply
        self.go.set()
        self.probe = threading.Event()  # silent mode: check whether the caller closed
        self.caller_closed: bool | None = None
        self.conn: socket.socket | None = None
        self.over = False  # the check is over: stop at once
        self.thread = threading.Thread(
            target=self._run, name="tcplessons check server", daemon=True
        )
        self.thread.start()

    def _run(self) -> None:
        try:
            self.conn, _ = self.listener.accept()
            if self.over:
                return  # only the check's own knock (see _stop): nobody called
            self.conn.settimeout(SERVER_WAIT)
            while True:
                data = self.conn.recv(65536)
                if not data:
                    break
                self.received += data
            self.got_eof.set()
            if self.mode == "reset":
                self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif self.mode == "silent":
                self.probe.wait(SERVER_WAIT)
                self.caller_closed = _closed_by_peer(self.conn)
            else:
                self.go.wait(TOGETHER)
                answer = self.reply(self.received)
                # In two pieces, a moment apart: one read(n) cannot get it all.
                self.conn.sendall(answer[:10])
                threading.Event().wait(0.05)
                self.conn.sendall(answer[10:])
        except OSError:
            pass
        finally:
            if self.conn is not None:
                self.conn.close()
            self.listener.close()
            self.done.set()


def _closed_by_peer(conn: socket.socket) -> bool:
    """Whether the other end has closed its socket (not merely half-closed).

    A byte sent to a closed socket draws a reset, and the next send() then fails; an open
    caller (even one that half-closed) takes the bytes and says nothing.  recv() cannot
    tell: after a half-close it gives b'' whether or not the caller has closed since.
    """
    deadline = threading.Event()
    for _ in range(int((PROBE - 1.0) / 0.02)):
        try:
            conn.send(b"?")
        except OSError:
            return True
        deadline.wait(0.02)
    return False


def _refusing_address():
    """An address nobody listens on (the port is held but not listening): connect() is refused."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    return holder, holder.getsockname()[:2]


def _stop(servers) -> None:
    for server in servers:
        server.go.set()
        server.probe.set()
        if server.conn is None and not server.done.is_set():
            # Nobody called this server (the learner's code gave up early): knock, so its
            # accept() returns; closing the listener would not wake it on Linux.
            server.over = True
            try:
                socket.create_connection(server.address, timeout=1.0).close()
            except OSError:
                pass
    for server in servers:
        server.done.wait(SERVER_WAIT)


def _in_turn(servers) -> None:
    """Let each server reply only once the one before it has replied (a fixed finish order)."""
    for server in servers[1:]:
        server.go.clear()

    def chain() -> None:
        for earlier, later in zip(servers, servers[1:], strict=False):
            earlier.done.wait(SERVER_WAIT + TOGETHER)
            later.go.set()

    threading.Thread(target=chain, name="tcplessons check order", daemon=True).start()


def _release_together(servers, outcome: dict, box: dict) -> None:
    """Let the servers reply once every one has the whole message (or after TOGETHER s).

    If they did not all get it, ask the learner's loop to run a callback: a loop that
    cannot even do that while a server holds back its reply is stuck in a blocking call.
    """
    outcome["together"] = all(s.got_eof.wait(TOGETHER) for s in servers)
    loop = box.get("loop")
    if not outcome["together"] and loop is not None and any(s.got_eof.is_set() for s in servers):
        ran = threading.Event()
        try:
            loop.call_soon_threadsafe(ran.set)
            outcome["loop_stuck"] = not ran.wait(TOGETHER)
        except RuntimeError:  # the loop has already closed
            pass
    for server in servers:
        server.go.set()
