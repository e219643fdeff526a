"""Checks for lesson 01's exercise: ``open_doorbell()``, a listening socket.

The contract the checks enforce: ``open_doorbell()`` returns a TCP socket that is bound
to 127.0.0.1 on a port the operating system picked (port 0) and is already listening, so
a caller can connect at once and ``accept()`` hands the call over.  Two calls give two
independent listeners.

Every socket the learner's function returns is closed by the check that opened it.

One mistake (returning the address, say) fails every check; the first failure explains
it and the others say "the same problem as above", so the report reads as one problem.
"""

from __future__ import annotations

import contextlib
import socket
import weakref
from collections.abc import Iterator

from .model import CheckFailed, Exercise
from .registry import register
from .tools import READ_TIMEOUT, RETURN_TIMEOUT, SocketWatch, call_with_timeout

__all__ = ["open_doorbell_exercise"]

open_doorbell_exercise = Exercise(
    "open_doorbell",
    lesson="01-doorbell-listener",
    summary="Return a TCP socket listening on 127.0.0.1, on a port the operating system picks.",
)

PORT_ZERO_HINT = (
    "bind to port 0 so the operating system picks a free port; "
    "read the real one afterwards with sock.getsockname()"
)
LOOPBACK_HINT = (
    "bind to '127.0.0.1' (loopback): '0.0.0.0' or '' answers callers from the whole "
    "network, and a practice doorbell should only ring for this computer"
)
LISTEN_HINT = "call listen() after bind(): without it the socket is not a doorbell yet"


#: Every socket a check has closed after using it: if open_doorbell() hands one of them
#: out again, it keeps a single socket and returns it on every call.
_closed_by_checks: weakref.WeakSet[socket.socket] = weakref.WeakSet()


def _describe(value) -> str:
    """A deterministic description of whatever the learner returned."""
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} items"
    return f"a {type(value).__name__}"


def _open(fn, opened: list[socket.socket], watch: SocketWatch | None = None) -> socket.socket:
    """Call the learner's ``open_doorbell()`` and check it returned a usable TCP socket.

    Which port it bound to is seen as bind() is called, so a port of the learner's own
    choosing (fixed, or picked at random) fails every check on every run, whether that
    port happened to be free or not."""
    watch = watch or SocketWatch()
    try:
        sock = call_with_timeout(
            fn,
            timeout=RETURN_TIMEOUT,
            call="open_doorbell()",
            hint="open_doorbell() should return as soon as the socket listens; "
            "waiting for a caller with accept() comes later",
            watch=watch,
        )
    except CheckFailed as failure:
        failure.cause = "does not return"  # the same in every check: explain it once
        raise
    except OSError:
        if not _chose_a_port(watch):
            raise
        sock = None
    if _chose_a_port(watch):
        # One message whether that port happened to be free this time or not.
        opened.extend(s for s in watch.created if isinstance(s, socket.socket))
        raise CheckFailed(
            "open_doorbell() bound its socket to a port it chose itself",
            got="bind() was given a port number other than 0",
            expected="bind() given port 0",
            hint="a port you choose (even one picked at random) may already be taken — "
            "'Address already in use' — by another program (a real Redis uses 6379), by "
            "your own earlier listener or by the learner next door; " + PORT_ZERO_HINT,
            cause="fixed port",
        )
    if isinstance(sock, socket.socket):
        if sock in _closed_by_checks:
            raise CheckFailed(
                "open_doorbell() returned the socket it returned on an earlier call, closed by now",
                expected="a new, open, listening socket on every call",
                hint="each call must make a new socket: create it inside "
                "open_doorbell(), not once outside it (whoever gets a doorbell closes "
                "it when done, as the checks did)",
                cause="reused",
            )
        opened.append(sock)
        if sock.fileno() == -1:
            raise CheckFailed(
                "open_doorbell() returned a closed socket",
                expected="a socket that is still open and listening",
                hint="a `with` block closes the socket when it ends, return or not: "
                "return the socket open and let whoever uses it close it",
                cause="closed",
            )
        if sock.type != socket.SOCK_STREAM:
            raise CheckFailed(
                "the socket is not a TCP socket",
                got=f"type {socket.SocketKind(sock.type).name} (UDP: separate datagrams, no calls)",
                expected="type SOCK_STREAM (TCP, a stream of bytes between two ends)",
                hint="create it with socket.socket(socket.AF_INET, socket.SOCK_STREAM): only a "
                "TCP socket can listen() for callers and accept() them",
                cause="not TCP",
            )
        return sock
    # Close what the learner opened even when it is hidden in what they returned.
    if isinstance(sock, (tuple, list)):
        opened.extend(s for s in sock if isinstance(s, socket.socket))
    if isinstance(sock, tuple) and len(sock) == 2 and isinstance(sock[1], int):
        raise CheckFailed(
            "open_doorbell() returned an address, not a socket",
            got="a (host, port) tuple",
            expected="the listening socket itself",
            hint="return the socket; whoever needs the address can ask it with sock.getsockname()",
            cause="address",
        )
    raise CheckFailed(
        f"open_doorbell() returned {_describe(sock)}, not a socket",
        got=_describe(sock),
        expected="a socket.socket that is listening",
        hint="return the socket you called bind() and listen() on",
        cause=f"type {_describe(sock)}",
    )


@contextlib.contextmanager
def _doorbells() -> Iterator[list[socket.socket]]:
    """A list to put opened sockets in; every one is closed afterwards."""
    opened: list[socket.socket] = []
    try:
        yield opened
    finally:
        for sock in opened:
            with contextlib.suppress(OSError):
                sock.close()
            _closed_by_checks.add(sock)


def _chose_a_port(watch: SocketWatch) -> bool:
    """Whether the learner's code gave bind() a port other than 0."""
    return any(isinstance(a, tuple) and len(a) >= 2 and a[1] != 0 for _, a in watch.binds)


def _require_loopback(sock: socket.socket) -> None:
    if sock.family != socket.AF_INET:
        raise CheckFailed(
            "the socket is not an IPv4 socket",
            got=f"family {socket.AddressFamily(sock.family).name}",
            expected="family AF_INET (IPv4), like 127.0.0.1",
            hint="create it with socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
        )
    host, port = sock.getsockname()[:2]
    if port == 0:
        raise CheckFailed(
            "the socket is not bound to an address",
            got="no address yet (bind() was never called)",
            expected="bound to 127.0.0.1",
            hint="call sock.bind(('127.0.0.1', 0)) before listen()",
        )
    if host != "127.0.0.1":
        raise CheckFailed(
            "the doorbell is reachable from outside this computer",
            got=f"bound to {host!r}",
            expected="bound to '127.0.0.1'",
            hint=LOOPBACK_HINT,
        )


def _ring(sock: socket.socket, which: str = "the doorbell") -> None:
    """Connect to ``sock`` as a caller; accept() on it must hand over that very call."""
    host, port = sock.getsockname()[:2]
    if port == 0:
        raise CheckFailed(
            f"{which} has no address, so nobody can ring it",
            got="no address yet (bind() was never called)",
            expected="bound to 127.0.0.1 and listening",
            hint="call sock.bind(('127.0.0.1', 0)) and then sock.listen()",
        )
    # A doorbell on every interface ("0.0.0.0", "::") answers on loopback too: this check
    # is about listening; the loopback check is another one.
    address = ("127.0.0.1" if host == "0.0.0.0" else "::1" if host == "::" else host, port)
    not_answered = CheckFailed(
        f"nobody answered when a caller rang {which}",
        sent="a connection from a caller on 127.0.0.1",
        got="the connection was refused: nothing listens on that port",
        expected="the connection to be queued until accept()",
        hint=LISTEN_HINT,
    )
    # Ask the socket itself first: Linux refuses a call to a port nobody listens on at
    # once, Windows only after about 2 s of retries, so the connection attempt alone
    # would give a verdict that depends on the platform and on the connect timeout.
    with contextlib.suppress(OSError, AttributeError):
        if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            raise not_answered
    try:
        caller = socket.create_connection(address, timeout=READ_TIMEOUT)
    except (TimeoutError, ConnectionRefusedError):
        raise not_answered from None
    with caller:
        sock.settimeout(READ_TIMEOUT)
        try:
            conn, peer = sock.accept()
        except TimeoutError:
            raise CheckFailed(
                f"accept() on {which} never handed over the waiting caller",
                hint=LISTEN_HINT,
            ) from None
        with conn:
            if peer[:2] != caller.getsockname()[:2]:
                raise CheckFailed(
                    f"accept() on {which} handed over a different caller",
                    hint="return a new socket from each call of open_doorbell(); never share one",
                )
            # Both ends talk: the line really works.
            caller.sendall(b"ding")
            if conn.recv(16) != b"ding":
                raise CheckFailed(f"bytes sent to {which} did not arrive", hint=LISTEN_HINT)


@open_doorbell_exercise.check("returns a TCP socket")
def _returns_a_tcp_socket(fn) -> None:
    with _doorbells() as opened:
        _open(fn, opened)  # checks the type


@open_doorbell_exercise.check("listens on 127.0.0.1 only (loopback)")
def _listens_on_loopback(fn) -> None:
    with _doorbells() as opened:
        _require_loopback(_open(fn, opened))


@open_doorbell_exercise.check("lets the operating system pick the port (port 0)")
def _port_zero(fn) -> None:
    with _doorbells() as opened:
        first = _open(fn, opened)  # a port other than 0 given to bind() fails here
        second = _open(fn, opened)
        if first is second:
            raise CheckFailed(
                "two calls returned the same socket",
                expected="a new listener on each call",
                hint="create the socket inside open_doorbell(), not once outside it",
            )
        if first.getsockname()[1] == second.getsockname()[1]:
            raise CheckFailed(
                "two calls gave doorbells on the same port",
                expected="a different free port each time",
                hint=PORT_ZERO_HINT,
            )


@open_doorbell_exercise.check("is listening: a caller can connect and accept() answers it")
def _is_listening(fn) -> None:
    with _doorbells() as opened:
        _ring(_open(fn, opened))


@open_doorbell_exercise.check("two calls give two doorbells that both answer")
def _two_doorbells(fn) -> None:
    with _doorbells() as opened:
        first = _open(fn, opened)
        second = _open(fn, opened)
        _ring(first, "the first doorbell")
        _ring(second, "the second doorbell")


register(open_doorbell_exercise)
