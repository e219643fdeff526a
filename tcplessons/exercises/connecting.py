"""Checks for lesson 09's exercise: ``connect_first(candidates, timeout)``.

The contract the checks enforce: ``candidates`` is a list of socket addresses in the
order to try them, as ``getaddrinfo`` gives them (``(host, port)`` for IPv4,
``(host, port, flowinfo, scope_id)`` for IPv6, or a plain ``(host, port)`` with an
IPv6 host).  Try each in turn, giving each attempt the full ``timeout``; return the
first connected socket, blocking, with no timeout left on it (and the module-wide
default timeout untouched).  Close every socket that failed, explicitly.  If every
candidate fails, raise ``ConnectionError`` whose message names each address (host and
port) with the text of its error, one per line, in order.  Never try another candidate
once one has connected.

Every candidate is on loopback: listeners that answer, ports where nobody listens
(refused), and a listener with a full queue that never answers (silent; see
:func:`tcplessons.loopback.silent_listener`).  How fast a refusal comes back never
decides a verdict: calls with refused candidates get a timeout well above the two
seconds Windows takes to refuse, and the silent checks have no refused candidates.  The
IPv6 parts are skipped (reported as skipped, never as passed) where this computer has no
``::1``, and the silent ones where the system refuses instead of staying silent.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import socket
import time
from collections.abc import Iterator

from ..loopback import closed_port, has_ipv6_loopback, silent_listener
from .connect_watch import watching_connects
from .model import CheckFailed, CheckSkipped, Exercise
from .registry import register
from .tools import LearnerCall

__all__ = ["connect_first"]

#: The per-candidate timeout of calls with silent candidates (and no refused ones): a
#: silent candidate costs this much.
ATTEMPT_TIMEOUT = 0.5
#: The per-candidate timeout of calls with refused candidates: well above the two
#: seconds Windows takes to refuse, so a refusal is never mistaken for a timeout.
REFUSAL_TIMEOUT = 5.0
#: How long a call may take beyond what a correct solution needs before the check calls
#: it stuck: only a call with no per-attempt timeout ever reaches it.
CALL_SLACK = 5.0
#: How long to wait for a stuck call to end once its silent candidate is gone.
STRAGGLER_LIMIT = 20.0
NO_IPV6 = "this computer has no ::1"

connect_first = Exercise(
    "connect_first",
    lesson="09-out-in-the-world",
    summary="Try each address in order, giving each attempt the full `timeout`; return the "
    "first connected socket, or raise ConnectionError listing every address and its error.",
)

TIMEOUT_HINT = (
    "give every attempt its own timeout: socket.create_connection(address, timeout) or "
    "sock.settimeout(timeout) before connect(); a computer that never answers makes a "
    "connect() without one wait for minutes"
)
FULL_TIMEOUT_HINT = (
    "each attempt gets the full timeout: set it afresh for every candidate "
    "(sock.settimeout(timeout) or socket.create_connection(address, timeout)), not a "
    "deadline shared by all of them, nor the timeout divided among them"
)
CLOSE_HINT = (
    "close the socket of every failed attempt yourself, whatever the error (refused or "
    "timed out): sock.close() in an except OSError block, or a with block; the garbage "
    "collector closes it some time later, or never"
)
FAMILY_HINT = (
    "an IPv6 address needs an IPv6 socket: socket.socket(socket.AF_INET6, ...) when the "
    "host contains ':', or socket.create_connection(address[:2], timeout) which picks "
    "the family for you"
)
REUSE_HINT = (
    "a socket connects once: after a failed connect() it cannot be used again. Make a "
    "new socket for every attempt (and close the failed one)"
)
ORDER_HINT = (
    "try the candidates in the order given (getaddrinfo's order, IPv6 ones too; never "
    "sort them), and return the first that connects"
)
CLOSED_HINT = (
    "a with block closes the socket when you return from inside it: create the socket "
    "without with (close it yourself only when the attempt fails), or return sock.dup()"
)
RAISE_HINT = (
    "when the last candidate has failed, raise ConnectionError with one line per "
    "address, in the order given: its host, port and the error it got"
)
#: What a system says when one socket is asked to connect a second time.
_REUSED_SOCKET_TEXTS = tuple(
    os.strerror(code) for code in (errno.ECONNABORTED, errno.EALREADY, errno.EISCONN, errno.EINVAL)
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
    _restore_default_timeout(call)


def _restore_default_timeout(call: LearnerCall) -> None:
    """Put back socket.setdefaulttimeout() if the learner's code changed it (it would make
    every later socket in the notebook time out); remember that it did."""
    if socket.getdefaulttimeout() != call.default_timeout:
        socket.setdefaulttimeout(call.default_timeout)
        call.changed_default = True


def _run(fn, candidates: list, timeout: float, what: str, calls=None) -> LearnerCall:
    """Call ``fn(candidates, timeout)`` and wait for it; fail the check if it is stuck."""
    call = LearnerCall(fn, list(candidates), timeout)
    call.candidates = list(candidates)  # for _outcome, to hide their ports
    call.default_timeout, call.changed_default = socket.getdefaulttimeout(), False
    started = time.monotonic()
    call.start()
    if not call.join(len(candidates) * timeout + CALL_SLACK):
        return call  # the caller decides; it must _finish(call) after freeing the address
    call.took = time.monotonic() - started
    _restore_default_timeout(call)
    return call


def _stuck(call: LearnerCall, what: str, hint: str = TIMEOUT_HINT) -> CheckFailed:
    _finish(call)
    return CheckFailed("connect_first() did not return in time", sent=what, hint=hint)


def _outcome(call: LearnerCall):
    """(returned value, raised exception) of a finished call, the exception's text kept
    without port numbers; NotImplementedError (the stub) is re-raised."""
    try:
        return call.result(), None
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001  (whatever it raised is what the check judges)
        exc.text_without_ports = _hide_ports(str(exc), call.candidates)
        return None, exc


def _text(error: BaseException) -> str:
    """What the learner's error says, without port numbers."""
    return getattr(error, "text_without_ports", str(error))


def _error_hint(error: BaseException) -> str:
    text = str(error)
    if any(t in text for t in _REUSED_SOCKET_TEXTS):
        return REUSE_HINT
    if isinstance(error, (TypeError, ValueError)) or "family" in text.lower():
        return FAMILY_HINT
    return (
        "catch the error of each attempt (OSError covers refused and timed out alike) "
        "and go on to the next candidate"
    )


def _require_socket(value, error: BaseException | None, what: str) -> socket.socket:
    if error is not None:
        raise CheckFailed(
            f"connect_first() raised {type(error).__name__}: {_text(error)}",
            sent=what,
            expected="the socket connected to the first candidate that answers",
            hint=_error_hint(error),
        )
    if not isinstance(value, socket.socket):
        raise CheckFailed(
            f"connect_first() returned a {type(value).__name__}, not a socket",
            sent=what,
            expected="the connected socket itself",
            hint="return the socket whose connect() succeeded",
        )
    if value.fileno() == -1:
        raise CheckFailed(
            "connect_first() returned a socket that is already closed",
            sent=what,
            got="sock.fileno() == -1",
            expected="an open socket, connected to the first candidate that answers",
            hint=CLOSED_HINT,
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
            hint=ORDER_HINT,
        )


def _silent_or_skip(silent) -> None:
    if not silent.silent:
        raise CheckSkipped(silent.why_not_silent)


@connect_first.check("connects to the only candidate and returns the socket")
def _one_candidate(fn) -> None:
    with _listener() as good:
        what = "one candidate, listening"
        call = _run(fn, [good.getsockname()], REFUSAL_TIMEOUT, what)
        if call.thread.is_alive():
            raise _stuck(call, what)
        with _require_socket(*_outcome(call), what) as sock:
            _require_connected_to(sock, good, what)


@connect_first.check("returns a blocking socket, with no timeout left on it")
def _no_timeout_left(fn) -> None:
    with _listener() as good:
        what = "one listening candidate"
        call = _run(fn, [good.getsockname()], REFUSAL_TIMEOUT, what)
        if call.thread.is_alive():
            raise _stuck(call, what)
        with _require_socket(*_outcome(call), what) as sock:
            left = sock.gettimeout()
    if call.changed_default:
        raise CheckFailed(
            "connect_first() changed the default timeout of every new socket",
            sent=what,
            got="socket.getdefaulttimeout() is no longer what it was before the call",
            expected="the default left as it was",
            hint="set the timeout on each attempt's socket (sock.settimeout(timeout) or "
            "create_connection(address, timeout)), never with socket.setdefaulttimeout(): "
            "that makes every later socket in the program time out",
        )
    if left == 0.0:
        raise CheckFailed(
            "the socket returned is non-blocking",
            sent=what,
            got="sock.gettimeout() == 0.0 (setblocking(False))",
            expected="None: a blocking socket, as socket.socket() makes",
            hint="'no timeout' is sock.settimeout(None) (or setblocking(True)); a "
            "non-blocking socket makes the caller's recv() raise BlockingIOError",
        )
    if left is not None:
        raise CheckFailed(
            "the socket returned still has a timeout set",
            sent=what,
            got="sock.gettimeout() is a number of seconds",
            expected="None: a blocking socket, as socket.socket() makes",
            hint="the timeout is for connecting; call sock.settimeout(None) "
            "before returning, or every later recv() of the caller times out",
        )


@connect_first.check("goes on to the next candidate when one is refused")
def _after_refusal(fn) -> None:
    with closed_port() as refused, _listener() as good:
        what = "two candidates: nobody listens at the first, the second is listening"
        call = _run(fn, [refused, good.getsockname()], REFUSAL_TIMEOUT, what)
        if call.thread.is_alive():
            raise _stuck(call, what)
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
    what = f"two candidates: the first never answers, the second is listening; timeout={ATTEMPT_TIMEOUT}"
    with silent_listener() as silent, _listener() as good:
        _silent_or_skip(silent)
        call = _run(fn, [silent.address, good.getsockname()], ATTEMPT_TIMEOUT, what)
        finished = not call.thread.is_alive()
        if finished:
            with _require_socket(*_outcome(call), what) as sock:
                _require_connected_to(sock, good, what)
    if not finished:
        _finish(call)  # the silent listener is gone: the stuck connect() is refused soon
        raise CheckFailed(
            "connect_first() was still waiting for a silent candidate long after its timeout",
            sent=what,
            expected=f"to give up on it after {ATTEMPT_TIMEOUT} s and connect to the next",
            hint=TIMEOUT_HINT,
        )


@connect_first.check("gives every attempt the full `timeout` (not a share of it)")
def _full_timeout_each(fn) -> None:
    what = (
        "three candidates: the first two never answer, the third is listening; "
        f"timeout={ATTEMPT_TIMEOUT}"
    )
    with contextlib.ExitStack() as stack:
        first, second = (stack.enter_context(silent_listener()) for _ in range(2))
        _silent_or_skip(first)
        _silent_or_skip(second)
        good = stack.enter_context(_listener())
        calls = stack.enter_context(watching_connects())
        candidates = [first.address, second.address, good.getsockname()]
        call = _run(fn, candidates, ATTEMPT_TIMEOUT, what)
        if call.thread.is_alive():
            stack.close()
            raise _stuck(call, what)
        with _require_socket(*_outcome(call), what) as sock:
            _require_connected_to(sock, good, what)
    mine = [c for c in calls if c.thread == call.thread.ident]
    silent_calls = [c for c in mine if c.address in (first.address, second.address)]
    if mine and len(silent_calls) < 2:
        raise CheckFailed(
            "connect_first() did not try the two silent candidates before the third",
            sent=what,
            got="no attempt at one of the first two candidates",
            expected="an attempt at each, in the order given",
            hint=ORDER_HINT,
        )
    if silent_calls:  # judged on the timeouts the attempts had
        short = any(c.timeout is not None and c.timeout < ATTEMPT_TIMEOUT for c in silent_calls)
    else:  # connect() was not called through socket.socket: judged on how long it waited,
        # which is at least 2 * timeout for every correct solution, however slow the computer
        short = call.took < 2 * ATTEMPT_TIMEOUT * 0.95
    if short:
        raise CheckFailed(
            "an attempt was given less than `timeout` seconds",
            sent=what,
            got="the second silent candidate was given up on before its full timeout",
            expected=f"{ATTEMPT_TIMEOUT} s for each of the two silent candidates",
            hint=FULL_TIMEOUT_HINT,
        )


@connect_first.check("tries the candidates in order and stops at the first that answers")
def _in_order(fn) -> None:
    first_host = "::1" if has_ipv6_loopback() else "127.0.0.1"
    with contextlib.ExitStack() as stack:
        first = stack.enter_context(_listener(first_host))
        second, third = (stack.enter_context(_listener()) for _ in range(2))
        what = f"three candidates, all listening: {first_host}, 127.0.0.1, 127.0.0.1"
        calls = stack.enter_context(watching_connects())
        candidates = [first.getsockname(), second.getsockname(), third.getsockname()]
        call = _run(fn, candidates, REFUSAL_TIMEOUT, what)
        if call.thread.is_alive():
            raise _stuck(call, what)
        mine = [c for c in calls if c.thread == call.thread.ident]
        if mine and mine[0].address != candidates[0][:2]:
            with contextlib.suppress(Exception):
                call.result().close()
            raise CheckFailed(
                "connect_first() did not try the first candidate first",
                sent=what,
                got="its first connect() was to a later candidate",
                expected=f"the first attempt at {first_host}, the first candidate",
                hint=ORDER_HINT,
            )
        with _require_socket(*_outcome(call), what) as sock:
            if mine and sock.getpeername()[:2] != candidates[0][:2]:
                raise CheckFailed(
                    f"connect_first() did not connect to {first_host}, the first candidate, "
                    "which was listening",
                    sent=what,
                    got="a socket connected to a later candidate",
                    expected="a socket connected to the first candidate",
                    hint=FAMILY_HINT if first_host == "::1" else ORDER_HINT,
                )
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
        raise CheckSkipped(NO_IPV6)
    for shape in ("four", "two"):
        with _listener("::1") as six, _listener() as four:
            address6 = six.getsockname() if shape == "four" else six.getsockname()[:2]
            written = "('::1', port, 0, 0)" if shape == "four" else "('::1', port)"
            what = f"two candidates, both listening: {written}, then ('127.0.0.1', port)"
            call = _run(fn, [address6, four.getsockname()], REFUSAL_TIMEOUT, what)
            if call.thread.is_alive():
                raise _stuck(call, what)
            value, error = _outcome(call)
            if isinstance(error, (TypeError, ValueError)):
                raise CheckFailed(
                    f"connect_first() raised {type(error).__name__} for an IPv6 address",
                    sent=what,
                    got=f"{type(error).__name__}: {_text(error)}",
                    hint=FAMILY_HINT,
                )
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


from . import connecting_failures  # noqa: E402,F401  (the checks of failed attempts)

register(connect_first)
