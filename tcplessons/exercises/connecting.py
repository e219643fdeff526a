"""Checks for lesson 09's exercise: ``connect_first(candidates, timeout)``.

The contract the checks enforce: ``candidates`` is a list of socket addresses in the
order to try them, as ``getaddrinfo`` gives them (``(host, port)`` for IPv4,
``(host, port, flowinfo, scope_id)`` for IPv6, or a plain ``(host, port)`` with an
IPv6 host).  Try each in turn, waiting at most ``timeout`` seconds for each; return the
first connected socket, blocking, with no timeout left on it.  Close every socket that
failed, explicitly.  If every candidate fails, raise ``ConnectionError`` whose message
names each address (host and port) with the text of its error, one per line, in order.
Never try another candidate once one has connected.

Every candidate is on loopback: listeners that answer, ports where nobody listens
(refused at once), and a listener with a full queue that never answers (silent; see
:func:`tcplessons.loopback.silent_listener`).  The IPv6 parts are skipped (they pass)
where this computer has no ``::1``, and the silent part where the system refuses
instead of staying silent (Windows).
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import socket
import sys
import warnings
from typing import Iterator, Optional

from ..loopback import closed_port, has_ipv6_loopback, silent_listener
from .model import CheckFailed, Exercise
from .registry import register
from .tools import LearnerCall

__all__ = ["connect_first"]

#: The per-candidate timeout the checks pass; a silent candidate costs this much.
ATTEMPT_TIMEOUT = 0.5
#: How long a whole call may take before the check calls it stuck: ten times what a
#: correct solution needs, so only a call with no per-attempt timeout ever reaches it.
CALL_LIMIT = 5.0
#: How long to wait for a stuck call to end once its silent candidate is gone.
STRAGGLER_LIMIT = 20.0

connect_first = Exercise(
    "connect_first",
    lesson="09-out-in-the-world",
    summary="Try each address in order, at most `timeout` seconds each; return the first "
    "connected socket, or raise ConnectionError listing every address and its error.",
)

TIMEOUT_HINT = (
    "give every attempt its own timeout: socket.create_connection(address, timeout) or "
    "sock.settimeout(timeout) before connect(); a computer that never answers makes a "
    "connect() without one wait for minutes"
)
CLOSE_HINT = (
    "close the socket of a failed attempt yourself (sock.close() in the except block, or "
    "a with block): the garbage collector closes it some time later, or never"
)
FAMILY_HINT = (
    "an IPv6 address needs an IPv6 socket: socket.socket(socket.AF_INET6, ...) when the "
    "host contains ':', or socket.create_connection(address[:2], timeout) which picks "
    "the family for you"
)


def _hide_ports(text: str, addresses) -> str:
    """``text`` with the port numbers of ``addresses`` replaced by PORT (they change on
    every run, and the report must read the same every time)."""
    for address in addresses:
        text = re.sub(rf"\b{address[1]}\b", "PORT", text)
    return text


@contextlib.contextmanager
def _listener(host: str = "127.0.0.1") -> Iterator[socket.socket]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.create_server((host, 0), family=family) as listener:
        yield listener


def _call_waiting(listener: socket.socket) -> bool:
    """Whether a call is waiting in ``listener``'s queue (and take it out if so)."""
    listener.setblocking(False)
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


def _finish(call: LearnerCall) -> None:
    """Wait for a learner call that outlived its check, and close what it returned."""
    if call.join(STRAGGLER_LIMIT):
        with contextlib.suppress(BaseException):
            result = call.result()
            if isinstance(result, socket.socket):
                result.close()


def _start(fn, candidates: list, timeout: float = ATTEMPT_TIMEOUT) -> LearnerCall:
    call = LearnerCall(fn, list(candidates), timeout)
    call.candidates = list(candidates)  # for _outcome, to hide their ports
    return call.start()


def _outcome(call: LearnerCall):
    """(returned value, raised OSError) of a finished call; anything else is re-raised."""
    try:
        return call.result(), None
    except OSError as exc:
        exc.text_without_ports = _hide_ports(str(exc), call.candidates)
        return None, exc


def _text(error: OSError) -> str:
    """What the learner's error says, without port numbers."""
    return getattr(error, "text_without_ports", str(error))


def _require_socket(value, error: Optional[OSError], what: str) -> socket.socket:
    if error is not None:
        raise CheckFailed(
            f"connect_first() raised {type(error).__name__}: {_text(error)}",
            sent=what,
            expected="the socket connected to the first candidate that answers",
            hint="catch the error of each attempt (OSError covers refused and timed out "
            "alike) and go on to the next candidate",
        )
    if not isinstance(value, socket.socket):
        raise CheckFailed(
            f"connect_first() returned a {type(value).__name__}, not a socket",
            sent=what,
            expected="the connected socket itself",
            hint="return the socket whose connect() succeeded",
        )
    return value


def _require_connected_to(sock: socket.socket, listener: socket.socket, what: str) -> None:
    try:
        peer = sock.getpeername()[:2]
    except OSError:
        peer = None
    if peer != listener.getsockname()[:2]:
        raise CheckFailed(
            "the socket returned is not connected to the first candidate that answers",
            sent=what,
            got="connected elsewhere" if peer else "a socket that is not connected",
            expected="connected to the first candidate that is listening",
            hint="try the candidates in the order given, and return the first that connects",
        )


@connect_first.check("connects to the only candidate and returns the socket")
def _one_candidate(fn) -> None:
    with _listener() as good:
        what = "one candidate, listening"
        call = _start(fn, [good.getsockname()])
        if not call.join(CALL_LIMIT):
            _finish(call)
            raise CheckFailed(f"connect_first() did not return within {CALL_LIMIT:g} s", sent=what)
        sock = _require_socket(*_outcome(call), what)
        with sock:
            _require_connected_to(sock, good, what)


@connect_first.check("returns a blocking socket, with no timeout left on it")
def _no_timeout_left(fn) -> None:
    with _listener() as good:
        call = _start(fn, [good.getsockname()])
        if not call.join(CALL_LIMIT):
            _finish(call)
            raise CheckFailed(f"connect_first() did not return within {CALL_LIMIT:g} s")
        sock = _require_socket(*_outcome(call), "one listening candidate")
        with sock:
            left = sock.gettimeout()
            if left is not None:
                raise CheckFailed(
                    "the socket returned still has a timeout set",
                    got=f"sock.gettimeout() == {left!r}",
                    expected="None: a blocking socket, as socket.socket() makes",
                    hint="the timeout is for connecting; call sock.settimeout(None) "
                    "before returning, or every later recv() of the caller times out",
                )


@connect_first.check("goes on to the next candidate when one is refused")
def _after_refusal(fn) -> None:
    with closed_port() as refused, _listener() as good:
        what = "two candidates: nobody listens at the first, the second is listening"
        call = _start(fn, [refused, good.getsockname()])
        if not call.join(CALL_LIMIT):
            _finish(call)
            raise CheckFailed(f"connect_first() did not return within {CALL_LIMIT:g} s", sent=what)
        value, error = _outcome(call)
        if isinstance(error, ConnectionRefusedError):
            raise CheckFailed(
                "connect_first() gave up after the first candidate was refused",
                sent=what,
                got=f"ConnectionRefusedError: {_text(error)}",
                expected="a socket connected to the second candidate",
                hint="catch the error of one attempt and try the next candidate; raise "
                "only when every candidate has failed",
            )
        with _require_socket(value, error, what) as sock:
            _require_connected_to(sock, good, what)


@connect_first.check("gives each candidate at most `timeout` seconds (a silent one too)")
def _silent_candidate(fn) -> None:
    with silent_listener() as silent, _listener() as good:
        if not silent.silent:
            return  # this system refuses instead of staying silent: nothing to check here
        what = (
            "two candidates: the first never answers, the second is listening; "
            f"timeout={ATTEMPT_TIMEOUT}"
        )
        call = _start(fn, [silent.address, good.getsockname()])
        finished = call.join(CALL_LIMIT)
        if finished:
            value, error = _outcome(call)
            with _require_socket(value, error, what) as sock:
                _require_connected_to(sock, good, what)
    if not finished:
        _finish(call)  # the silent listener is gone: the stuck connect() is refused soon
        raise CheckFailed(
            f"connect_first() was still waiting for a silent candidate after {CALL_LIMIT:g} s",
            sent=what,
            expected=f"to give up on it after {ATTEMPT_TIMEOUT} s and connect to the next",
            hint=TIMEOUT_HINT,
        )


@connect_first.check("tries the candidates in order and stops at the first that answers")
def _in_order(fn) -> None:
    with _listener() as first, _listener() as second, _listener() as third:
        what = "three candidates, all listening"
        call = _start(fn, [first.getsockname(), second.getsockname(), third.getsockname()])
        if not call.join(CALL_LIMIT):
            _finish(call)
            raise CheckFailed(f"connect_first() did not return within {CALL_LIMIT:g} s", sent=what)
        with _require_socket(*_outcome(call), what) as sock:
            _require_connected_to(sock, first, what)
            others = (("second", second), ("third", third))
            called = [name for name, other in others if _call_waiting(other)]
            if called:
                raise CheckFailed(
                    "connect_first() called other candidates after the first one answered",
                    sent=what,
                    got=f"calls waiting at the {' and '.join(called)} candidate",
                    expected="a call to the first candidate only",
                    hint="return as soon as one connect() succeeds; never connect to "
                    "all of them and pick one",
                )


@connect_first.check("connects to an IPv6 candidate (::1) as well as IPv4")
def _ipv6(fn) -> None:
    if not has_ipv6_loopback():
        return  # this computer has no ::1: skipped
    for shape in ("four", "two"):
        with _listener("::1") as six, _listener() as four:
            address6 = six.getsockname() if shape == "four" else six.getsockname()[:2]
            written = "('::1', port, 0, 0)" if shape == "four" else "('::1', port)"
            what = f"two candidates, both listening: {written}, then ('127.0.0.1', port)"
            call = _start(fn, [address6, four.getsockname()])
            if not call.join(CALL_LIMIT):
                _finish(call)
                raise CheckFailed(
                    f"connect_first() did not return within {CALL_LIMIT:g} s", sent=what
                )
            try:
                value, error = _outcome(call)
            except (TypeError, ValueError) as exc:
                raise CheckFailed(
                    f"connect_first() raised {type(exc).__name__} for an IPv6 address",
                    sent=what,
                    got=f"{type(exc).__name__}: {exc}",
                    hint=FAMILY_HINT,
                ) from None
            with _require_socket(value, error, what) as sock:
                if (
                    sock.family != socket.AF_INET6
                    or sock.getpeername()[:2] != six.getsockname()[:2]
                ):
                    raise CheckFailed(
                        "connect_first() skipped the IPv6 candidate, which was listening",
                        sent=what,
                        got="a socket connected to the IPv4 candidate",
                        expected="a socket connected to ::1, the first candidate",
                        hint=FAMILY_HINT,
                    )


def _error_text(address) -> str:
    """The text this system gives for calling ``address`` (found by calling it)."""
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        try:
            probe.connect(address)
        except OSError as exc:
            return exc.strerror or str(exc)
    return "connected"


@connect_first.check("raises ConnectionError naming every address and its error, in order")
def _all_fail(fn) -> None:
    hosts = ["127.0.0.1", "::1" if has_ipv6_loopback() else "127.0.0.1", "127.0.0.1"]
    with contextlib.ExitStack() as stack:
        addresses = [stack.enter_context(closed_port(host)) for host in hosts]
        what = "three candidates, nobody listens at any: " + ", ".join(hosts)
        texts = [_error_text(a) for a in addresses]
        call = _start(fn, addresses)
        if not call.join(CALL_LIMIT):
            _finish(call)
            raise CheckFailed(f"connect_first() did not return within {CALL_LIMIT:g} s", sent=what)
        try:
            value, error = _outcome(call)
        except (TypeError, ValueError) as exc:
            raise CheckFailed(
                f"connect_first() raised {type(exc).__name__}: {exc}", sent=what, hint=FAMILY_HINT
            ) from None
    if error is None:
        if isinstance(value, socket.socket):
            value.close()
        raise CheckFailed(
            f"connect_first() returned a {type(value).__name__} when every candidate failed",
            sent=what,
            expected="ConnectionError",
            hint="when the last candidate has failed, raise ConnectionError with one line "
            "per address: its host, port and the error it got",
        )
    message = str(error)
    shown = _text(error)
    if not isinstance(error, ConnectionError):
        raise CheckFailed(
            f"connect_first() raised {type(error).__name__}, not ConnectionError",
            sent=what,
            got=f"{type(error).__name__}: {shown}",
            hint="raise ConnectionError('...') once every candidate has failed",
        )
    lines, at = message.splitlines(), -1
    for address, text in zip(addresses, texts, strict=True):
        host, port = address[0], str(address[1])
        found = [
            i
            for i, line in enumerate(lines)
            if i > at and host in line and port in line and text in line
        ]
        if not found:
            raise CheckFailed(
                "the ConnectionError does not say what happened at every address, in order",
                sent=what,
                got=f"{type(error).__name__}: {shown}",
                expected=f"a line naming {host} and its port with its error ({text!r}), "
                "after the lines for the addresses before it",
                hint="keep each attempt's error (str(exc)) with its address, and put "
                "them in the message one per line: the caller needs all of them",
            )
        at = found[0]


def _open_sockets() -> Optional[int]:
    """How many sockets this process has open, where the system can tell."""
    if sys.platform.startswith("linux"):
        count = 0
        for name in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                count += os.readlink(f"/proc/self/fd/{name}").startswith("socket:")
        return count
    return None  # elsewhere only unclosed-socket warnings are counted


@connect_first.check("closes the socket of every failed attempt")
def _closes_failures(fn) -> None:
    gc.collect()  # what earlier checks left behind is not this check's business
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for listening in (True, False):
            with contextlib.ExitStack() as stack:
                refused = [stack.enter_context(closed_port()) for _ in range(3)]
                good = stack.enter_context(_listener()) if listening else None
                candidates = refused + ([good.getsockname()] if good else [])
                gc.collect()
                before = _open_sockets()
                call = _start(fn, candidates)
                if not call.join(CALL_LIMIT):
                    _finish(call)
                    raise CheckFailed(f"connect_first() did not return within {CALL_LIMIT:g} s")
                value, error = _outcome(call)
                if isinstance(value, socket.socket):
                    value.close()
                del value, error, call  # the error's traceback holds the learner's locals
                gc.collect()
                after = _open_sockets()
            unclosed = [w for w in caught if issubclass(w.category, ResourceWarning)]
            leaked = (after - before) if before is not None and after is not None else 0
            if unclosed or leaked > 0:
                case = "three refused, then one listening" if listening else "three refused"
                raise CheckFailed(
                    "sockets of failed attempts were left open",
                    sent=case,
                    got="sockets closed only by the garbage collector, or never",
                    expected="every failed attempt's socket closed before the next attempt",
                    hint=CLOSE_HINT,
                )


register(connect_first)
