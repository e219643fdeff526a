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

This module holds the exercise and its checks of attempts that connect; the checks of
failed attempts are in :mod:`.connecting_failures` (added after these), the helpers both
use (running the call, judging its result, the hints) in :mod:`._connect_first_calls`.
"""

from __future__ import annotations

import contextlib
import socket

from ..loopback import closed_port, has_ipv6_loopback, silent_listener
from ._connect_first_calls import (
    ATTEMPT_TIMEOUT,
    FAMILY_HINT,
    FULL_TIMEOUT_HINT,
    ORDER_HINT,
    REFUSAL_TIMEOUT,
    TIMEOUT_HINT,
    _call_waiting,
    _finish,
    _listener,
    _outcome,
    _require_connected_to,
    _require_socket,
    _run,
    _silent_or_skip,
    _stuck,
    _text,
)
from .connect_watch import watching_connects
from .model import CheckFailed, CheckSkipped, Exercise
from .registry import register

__all__ = ["connect_first"]


NO_IPV6 = "this computer has no ::1"

connect_first = Exercise(
    "connect_first",
    lesson="09-out-in-the-world",
    summary="Try each address in order, giving each attempt the full `timeout`; return the "
    "first connected socket, or raise ConnectionError listing every address and its error.",
)


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
