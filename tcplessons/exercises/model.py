"""The exercise model: an :class:`Exercise` is a named list of checks; running them on a
learner's object gives a :class:`Report` of :class:`Result` s.

A check is a plain function that receives the learner's object and either returns
(passed) or raises :class:`CheckFailed` saying what was sent, what came back, what was
expected and a hint.  Anything else it raises is reported as what the learner's code did.
"""

from __future__ import annotations

import html
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CheckFailed",
    "CheckSkipped",
    "Check",
    "Exercise",
    "Report",
    "Result",
    "NOT_WRITTEN_HINT",
]

NOT_WRITTEN_HINT = "Write the code in the exercise cell, run that cell, then run this one again."


class CheckFailed(AssertionError):
    """Raised by a check: the learner's code did something other than expected.

    Every field is optional text; give the ones that help: ``sent`` (what the check fed
    in), ``got`` (what came back or happened), ``expected``, and ``hint`` (which concept
    to revisit).  ``cause`` names the root cause (e.g. ``"returns bytearray"``) when
    several checks can fail for the same one: the report explains it in full once and
    calls it "the same problem as above" in later checks.
    """

    def __init__(
        self,
        what: str,
        *,
        sent: str = "",
        got: str = "",
        expected: str = "",
        hint: str = "",
        cause: str = "",
    ):
        super().__init__(what)
        self.what, self.sent, self.got, self.expected, self.hint = what, sent, got, expected, hint
        self.cause = cause

    def message(self) -> str:
        parts = [self.what]
        for label, text in (
            ("sent", self.sent),
            ("got", self.got),
            ("expected", self.expected),
            ("hint", self.hint),
        ):
            if text:
                parts.append(f"{label}: {text}")
        return "\n".join(parts)


class CheckSkipped(Exception):
    """Raised by a check that cannot run on this computer (e.g. no ``::1``): the report
    shows ``[skip] reason`` and leaves the check out of the count."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Check:
    """One behaviour the learner's object must have; ``run(obj)`` raises on failure."""

    name: str
    run: Callable[[Any], None]


@dataclass(frozen=True)
class Result:
    """The outcome of one check: its name, whether it passed, and a deterministic message."""

    name: str
    passed: bool
    message: str = ""
    skipped: bool = False


def learner_line(exc: BaseException) -> str:
    """`` (at: conn.sendall(data))``: the learner's line that raised ``exc``, or ""."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "tcplessons" not in f.filename]
    return f" (at: {frames[-1].line.strip()})" if frames and frames[-1].line else ""


def _describe_exception(exc: BaseException) -> str:
    """One line naming an unexpected exception, with the learner's line if we have it."""
    return f"your code raised {type(exc).__name__}: {exc}{learner_line(exc)}"


@dataclass
class Exercise:
    """An exercise: the name the learner defines, and the checks it must pass.

    Add checks with the decorator::

        recv_exactly = Exercise("recv_exactly", lesson="02-phone-call-stream")

        @recv_exactly.check("reads a message sent one byte at a time")
        def _(fn):
            ...
    """

    id: str
    lesson: str
    summary: str = ""
    checks: list[Check] = field(default_factory=list)

    def check(self, name: str) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
        def add(run: Callable[[Any], None]) -> Callable[[Any], None]:
            if any(c.name == name for c in self.checks):
                raise ValueError(f"exercise {self.id!r} already has a check named {name!r}")
            self.checks.append(Check(name, run))
            return run

        return add

    def run(self, obj: Any) -> Report:
        """Run every check on ``obj``; never raises for anything the learner's code did."""
        results = []
        causes_explained = set()
        for check in self.checks:
            try:
                check.run(obj)
            except CheckSkipped as skip:
                results.append(Result(check.name, False, skip.reason, skipped=True))
            except CheckFailed as failure:
                if failure.cause and failure.cause in causes_explained:
                    message = f"{failure.what} — the same problem as above"
                else:
                    causes_explained.add(failure.cause)
                    message = failure.message()
                results.append(Result(check.name, False, message))
            except NotImplementedError as exc:
                results.append(
                    Result(check.name, False, f"not written yet: {exc}\nhint: {NOT_WRITTEN_HINT}")
                )
            except BaseException as exc:  # SystemExit and KeyboardInterrupt from learner code too
                if isinstance(exc, KeyboardInterrupt):
                    raise
                results.append(Result(check.name, False, _describe_exception(exc)))
            else:
                results.append(Result(check.name, True))
        return Report(self.id, results)


@dataclass
class Report:
    """What the checks found; displays as text, or as HTML in a notebook."""

    exercise: str
    results: list[Result]

    @property
    def run_results(self) -> list[Result]:
        """The results of the checks that ran (skipped ones left out)."""
        return [r for r in self.results if not r.skipped]

    @property
    def passed(self) -> bool:
        return bool(self.run_results) and all(r.passed for r in self.run_results)

    @property
    def score(self) -> int:
        return sum(r.passed for r in self.run_results)

    @property
    def max_score(self) -> int:
        return len(self.run_results)

    def _not_written(self) -> str | None:
        """The stub's message when every check failed because nothing is written yet."""
        firsts = {r.message.split("\n")[0] for r in self.run_results}
        if len(firsts) == 1 and not any(r.passed for r in self.results):
            only = firsts.pop()
            if only.startswith("not written yet"):
                return only
        return None

    def headline(self) -> str:
        if self.passed:
            return f"{self.exercise}: all {self.max_score} checks passed. Well done!"
        return f"{self.exercise}: {self.score} of {self.max_score} checks passed."

    def __str__(self) -> str:
        out = [self.headline()]
        stub = self._not_written()
        if stub:
            out.append(f"  {stub}")
            out.append(f"  hint: {NOT_WRITTEN_HINT}")
            out.append("  The checks waiting for it:")
            out += [f"    - {r.name}" for r in self.run_results]
            return "\n".join(out)
        for r in self.results:
            if r.skipped:
                out.append(f"  [skip] {r.name} ({r.message})")
                continue
            out.append(f"  [{'pass' if r.passed else 'FAIL'}] {r.name}")
            if not r.passed:
                out += [f"         {line}" for line in r.message.splitlines()]
        return "\n".join(out)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#b35900"
        rows = []
        stub = self._not_written()
        for r in self.results:
            mark = "skip" if r.skipped else "pass" if r.passed else "FAIL"
            detail = "" if (r.passed or stub) else html.escape(r.message).replace("\n", "<br>")
            rows.append(
                f"<tr><td style='text-align:left'><b>{mark}</b></td>"
                f"<td style='text-align:left'>{html.escape(r.name)}</td>"
                f"<td style='text-align:left;font-family:monospace'>{detail}</td></tr>"
            )
        note = ""
        if stub:
            note = f"<p>{html.escape(stub)}<br>hint: {html.escape(NOT_WRITTEN_HINT)}</p>"
        return (
            f"<div class='tcplessons-report'><p style='color:{colour}'><b>{html.escape(self.headline())}</b></p>"
            f"{note}<table>{''.join(rows)}</table></div>"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.exercise,
            "passed": self.passed,
            "score": self.score,
            "max_score": self.max_score,
            "checks": [
                {
                    "name": r.name,
                    "passed": r.passed,
                    "message": r.message,
                    **({"skipped": True} if r.skipped else {}),
                }
                for r in self.results
            ],
        }
