"""Judging what a member of the ``ChatRoom`` checks received (lesson 06), and saying what
went wrong in words a learner can act on.

:func:`_expect` compares a member's bytes with the lines it should have received and, when
they differ, raises :class:`CheckFailed` with the diagnosis of :func:`_diagnose`.  The
harness the checks read members through is in :mod:`._chat_harness`; the checks are in
:mod:`.chat`.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator, Sequence

from ._chat_harness import _Harness, _Overlap
from ._chat_terms import NEWLINE_HINT, SENDALL_HINT
from .model import CheckFailed


def _show(data: bytes, limit: int = 120) -> str:
    if len(data) <= limit:
        return repr(bytes(data))
    return f"{bytes(data[:limit])!r}… ({len(data)} bytes)"


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _expect(
    h: _Harness,
    name: str,
    expected: Sequence[str],
    *,
    any_order: int = 0,
    sender: str = "",
    missing_hint: str = "",
    got: bytes | None = None,
) -> None:
    """``name`` must have received exactly ``expected`` (the last ``any_order`` lines in
    any order); ``got`` if the check has already read it."""
    got = h.received(name) if got is None else got
    want = "".join(expected).encode("utf-8")
    if got == want:
        return
    if any_order:
        head, tail = list(expected[:-any_order]), list(expected[-any_order:])
        got_lines = _lines(got)
        if b"".join(got_lines[: len(head)]) == "".join(head).encode() and Counter(
            got_lines[len(head) :]
        ) == Counter(t.encode() for t in tail):
            return
    what, hint = _diagnose(name, got, want, sender, missing_hint)
    raise CheckFailed(what, sent=h.doing(), got=_show(got), expected=_show(want), hint=hint)


def _missing_newlines(got: bytes, want: bytes) -> bool:
    """Whether ``got`` is what was expected (in any order) except for missing newlines."""
    return (
        bool(got)
        and got.count(b"\n") < want.count(b"\n")
        and Counter(got.replace(b"\n", b"")) == Counter(want.replace(b"\n", b""))
    )


def _diagnose(
    name: str, got: bytes, want: bytes, sender: str, missing_hint: str = ""
) -> tuple[str, str]:
    if not got and want:
        return (
            f"{name} received nothing",
            "send each line to every member with conn.sendall(line.encode())",
        )
    if _missing_newlines(got, want):
        return f"the lines {name} received do not end with a newline", NEWLINE_HINT
    if (
        sender
        and f"\n{sender}: ".encode() in b"\n" + got
        and f"\n{sender}: ".encode() not in b"\n" + want
    ):
        return (
            f"the sender {sender} received its own message back",
            "broadcast() sends to every member except the sender: skip the member whose name is sender",
        )
    if f"* {name} joined".encode() in got:
        return (
            f"{name} was told about its own arrival",
            "join() tells everyone *else*: send before adding the newcomer, or skip it in the loop",
        )
    got_lines, want_lines = _lines(got), _lines(want)
    partial = [g for g in got_lines if not g.endswith(b"\n")]
    partial += [
        g
        for g in got_lines
        if g not in want_lines and any(w.startswith(g[:-1]) for w in want_lines)
    ]
    if partial:
        return f"only part of what was sent to {name} arrived", SENDALL_HINT
    missing = list((Counter(want_lines) - Counter(got_lines)).elements())
    extra = list((Counter(got_lines) - Counter(want_lines)).elements())
    if missing and not extra:
        return f"{name} never received {missing[0]!r}", missing_hint or (
            "send the line to every member it is meant for, each with its own sendall()"
        )
    if extra and not missing:
        return f"{name} received {extra[0]!r}, which was not meant for it", (
            "check who each line goes to: joined and left go to everyone else, a message to "
            "everyone but its sender, and nobody hears anything after they left"
        )
    return (
        f"{name} did not receive what was expected",
        "compare the lines: '* NAME joined', 'SENDER: TEXT' and '* NAME left', each ending in '\\n'",
    )


@contextlib.contextmanager
def _no_socket_error(h: _Harness, method: str, hint: str) -> Iterator[None]:
    """Fail the check if ``method`` lets a vanished member's socket error escape."""
    try:
        yield
    except OSError:
        raise CheckFailed(
            f"{method}() let a socket error escape when a member had vanished",
            sent=h.doing(),
            got=f"a socket error (OSError) raised out of {method}()",
            expected="no exception: the vanished member is removed and announced as left",
            hint=hint,
        ) from None


def _show_mixed(got: bytes, overlap: _Overlap) -> str:
    """``got`` up to where another thread's piece landed: only that much is the same on
    every run (after it, the two threads' pieces alternate as the scheduler likes)."""
    if overlap.mixed_at is None or overlap.mixed_at >= len(got):
        return _show(got)
    return f"{_show(got[: overlap.mixed_at], limit=200)}… (then the rest of both lines, mixed)"
