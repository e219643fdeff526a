"""Running a learner's ``connect_first`` and judging what it gave back: the helpers the
checks of lesson 09's exercise share, and the hints they give.

- :func:`_run` — call ``connect_first`` in a thread of its own and wait for it (bounded);
  :func:`_stuck` / :func:`_finish` — what to do with a call that did not return.
- :func:`_outcome` — what it returned or raised (port numbers hidden from the text).
- :func:`_require_socket`, :func:`_require_connected_to` — the socket it returned is
  open and connected to the right candidate.
- :func:`_listener`, :func:`_call_waiting`, :func:`_silent_or_skip` — the candidates.

The checks are in :mod:`.connecting` and :mod:`.connecting_failures`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import socket
import time
from collections.abc import Iterator

from .model import CheckFailed, CheckSkipped
from .tools import LearnerCall

__all__: list[str] = []

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
