"""``connect_first``'s checks of failed attempts: the ConnectionError raised when every
candidate fails, and the sockets of failed attempts (refused or timed out) closed.

Added to the exercise defined in :mod:`tcplessons.exercises.connecting`, after its
other checks; the helpers both use are in :mod:`._connect_first_calls`.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import socket
import sys
import warnings

from ..loopback import closed_port, has_ipv6_loopback, silent_listener
from ._connect_first_calls import (
    _REUSED_SOCKET_TEXTS,
    ATTEMPT_TIMEOUT,
    CLOSE_HINT,
    FAMILY_HINT,
    RAISE_HINT,
    REFUSAL_TIMEOUT,
    REUSE_HINT,
    _listener,
    _outcome,
    _run,
    _silent_or_skip,
    _stuck,
    _text,
)
from .connecting import connect_first
from .model import CheckFailed

__all__: list[str] = []


def _error_texts(address) -> list[str]:
    """The texts a call to ``address`` (a closed port) may end with here: this system's
    refusal text, found by calling it with a timeout well above Windows' two seconds,
    and "timed out" (how fast a refusal comes back never decides the verdict)."""
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    texts = [os.strerror(errno.ECONNREFUSED), "timed out"]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.settimeout(REFUSAL_TIMEOUT)
        try:
            probe.connect(address)
        except OSError as exc:
            texts.insert(0, exc.strerror or str(exc))
    return texts


@connect_first.check("raises ConnectionError naming every address and its error, in order")
def _all_fail(fn) -> None:
    hosts = ["127.0.0.1", "::1" if has_ipv6_loopback() else "127.0.0.1", "127.0.0.1"]
    with contextlib.ExitStack() as stack:
        addresses = [stack.enter_context(closed_port(host)) for host in hosts]
        what = "three candidates, nobody listens at any: " + ", ".join(hosts)
        texts = [_error_texts(a) for a in addresses]
        call = _run(fn, addresses, REFUSAL_TIMEOUT, what)
        if call.thread.is_alive():
            raise _stuck(call, what)
        value, error = _outcome(call)
    if error is None:
        if isinstance(value, socket.socket):
            value.close()
        raise CheckFailed(
            f"connect_first() returned a {type(value).__name__} when every candidate failed",
            sent=what,
            expected="ConnectionError",
            hint=RAISE_HINT,
        )
    message, shown = str(error), _text(error)
    got = f"{type(error).__name__}: {shown}"
    if not isinstance(error, ConnectionError):
        raise CheckFailed(
            f"connect_first() raised {type(error).__name__}, not ConnectionError",
            sent=what,
            got=got,
            hint=FAMILY_HINT
            if isinstance(error, (TypeError, ValueError))  # e.g. an AF_INET socket given ::1
            else "raise ConnectionError('...') once every candidate has failed, with one "
            "line per address, in the order given: its host, port and the error it got",
        )
    lines, at = message.splitlines(), -1
    for address, accepted in zip(addresses, texts, strict=True):
        host, port = address[0], str(address[1])

        def says(line: str, host=host, port=port, accepted=accepted) -> bool:
            return host in line and port in line and any(t in line for t in accepted)

        found = [i for i, line in enumerate(lines) if i > at and says(line)]
        if found:
            at = found[0]
            continue
        if any(t in message for t in _REUSED_SOCKET_TEXTS):
            hint = REUSE_HINT
        elif "family" in message.lower():
            hint = FAMILY_HINT
        elif any(says(line) for line in lines):
            hint = "put the lines in the order the candidates were given (and tried)"
        else:
            hint = (
                "keep each attempt's error (str(exc)) with its address, and put them in "
                "the message one per line, in the order given: the caller needs all of them"
            )
        raise CheckFailed(
            "the ConnectionError does not say what happened at every address, in order",
            sent=what,
            got=got,
            expected=f"a line naming {host} and its port with its error ({accepted[0]!r}), "
            "after the lines for the addresses before it",
            hint=hint,
        )


def _open_sockets() -> int | None:
    """How many sockets this process has open, where the system can tell."""
    if sys.platform.startswith("linux"):
        count = 0
        for name in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                count += os.readlink(f"/proc/self/fd/{name}").startswith("socket:")
        return count
    return None  # elsewhere only unclosed-socket warnings are counted


def _leak_case(fn, stack_candidates, timeout: float, case: str) -> None:
    """Run one call and fail if a socket of a failed attempt was left open (whatever the
    call returned or raised: its type is other checks' business)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with contextlib.ExitStack() as stack:
            candidates = stack_candidates(stack)
            gc.collect()
            before = _open_sockets()
            call = _run(fn, candidates, timeout, case)
            if call.thread.is_alive():
                stack.close()
                raise _stuck(call, case)
            value, error = _outcome(call)
            if isinstance(value, socket.socket):
                value.close()
            del value, error, call  # the error's traceback holds the learner's locals
            gc.collect()
            after = _open_sockets()
    unclosed = [w for w in caught if issubclass(w.category, ResourceWarning)]
    leaked = (after - before) if before is not None and after is not None else 0
    if unclosed or leaked > 0:
        raise CheckFailed(
            "sockets of failed attempts were left open",
            sent=case,
            got="sockets closed only by the garbage collector, or never",
            expected="every failed attempt's socket closed before the next attempt",
            hint=CLOSE_HINT,
        )


@connect_first.check("closes the socket of every refused attempt")
def _closes_refused(fn) -> None:
    gc.collect()  # what earlier checks left behind is not this check's business
    for listening in (True, False):

        def candidates(stack, listening=listening):
            refused = [stack.enter_context(closed_port()) for _ in range(3)]
            good = [stack.enter_context(_listener()).getsockname()] if listening else []
            return refused + good

        case = "three refused, then one listening" if listening else "three refused"
        _leak_case(fn, candidates, REFUSAL_TIMEOUT, case)


@connect_first.check("closes the socket of an attempt that timed out")
def _closes_timed_out(fn) -> None:
    gc.collect()
    with silent_listener() as probe:
        _silent_or_skip(probe)

    def candidates(stack):
        silent = stack.enter_context(silent_listener())
        _silent_or_skip(silent)
        return [silent.address, stack.enter_context(_listener()).getsockname()]

    case = f"two candidates: the first never answers, the second is listening; timeout={ATTEMPT_TIMEOUT}"
    _leak_case(fn, candidates, ATTEMPT_TIMEOUT, case)
