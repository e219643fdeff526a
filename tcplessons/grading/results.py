"""The typed results that cross the grader's process boundary, and the rows it reports.

The worker (:mod:`.worker`) fills a :class:`WorkerState` and streams it to the
supervisor as JSON lines; the supervisor turns the last one into a :class:`Submission`
(:func:`tcplessons.grading.rows.build_submission`), which every report prints.  Nothing
here imports the checks, a kernel or ipywidgets.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = ["CheckResult", "ExerciseInfo", "ExerciseResult", "Submission", "WorkerState"]


@dataclass
class CheckResult:
    """One check of one exercise: its name, whether it passed, and what it said."""

    name: str
    passed: bool
    message: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        return cls(str(data["name"]), bool(data["passed"]), str(data.get("message", "")))


@dataclass
class ExerciseInfo:
    """An exercise the grader knows: its id, its lesson and the names of its checks."""

    id: str
    lesson: str
    checks: list[str]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExerciseInfo:
        return cls(data["id"], data.get("lesson", ""), list(data["checks"]))


@dataclass
class ExerciseResult:
    """One exercise of one notebook, as ``--json`` shows it."""

    id: str
    attempted: bool
    checks: list[CheckResult]

    @property
    def score(self) -> int:
        return sum(1 for c in self.checks if c.passed)

    @property
    def max_score(self) -> int:
        return len(self.checks)

    @property
    def passed(self) -> bool:
        return self.attempted and bool(self.checks) and self.score == self.max_score

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "attempted": self.attempted,
            "passed": self.passed,
            "score": self.score,
            "max_score": self.max_score,
            "checks": [asdict(c) for c in self.checks],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExerciseResult:
        checks = [CheckResult.from_dict(c) for c in data.get("checks", [])]
        return cls(data["id"], bool(data.get("attempted")), checks)


@dataclass
class Submission:
    """One graded notebook: a row of the table, the gradebook and ``--json``.

    ``counted`` holds the exercises its total counts (every exercise of its own lessons);
    ``tampered`` says the notebook tried to change how it is graded (its ``notes`` say
    how); ``sandbox`` says how it ran: ``"bwrap"`` or ``"off"``.
    """

    notebook: str
    exercises: list[ExerciseResult]
    notes: list[str] = field(default_factory=list)
    fault: str = ""
    lessons: list[str] = field(default_factory=list)
    counted: list[str] = field(default_factory=list)
    unreadable: bool = False
    tampered: bool = False
    sandbox: str = "off"

    def exercise(self, exercise_id: str) -> ExerciseResult:
        return next(e for e in self.exercises if e.id == exercise_id)

    def own(self, columns: list[str]) -> set[str]:
        """Ids this notebook's total counts; a row with none counts every shown column."""
        return set(self.counted or columns)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape of one submission (``counted`` stays internal)."""
        return {
            "notebook": self.notebook,
            "exercises": [e.to_dict() for e in self.exercises],
            "notes": list(self.notes),
            "fault": self.fault or None,
            "lessons": list(self.lessons),
            "unreadable": self.unreadable,
            "tampered": self.tampered,
            "sandbox": self.sandbox,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Submission:
        """A submission from ``--json`` (or a hand-made dict with at least notebook, exercises)."""
        return cls(
            notebook=data["notebook"],
            exercises=[ExerciseResult.from_dict(e) for e in data.get("exercises", [])],
            notes=list(data.get("notes") or []),
            fault=data.get("fault") or "",
            lessons=list(data.get("lessons") or []),
            counted=list(data.get("counted") or []),
            unreadable=bool(data.get("unreadable")),
            tampered=bool(data.get("tampered")),
            sandbox=data.get("sandbox") or "off",
        )


def as_submission(row: Submission | dict[str, Any]) -> Submission:
    return row if isinstance(row, Submission) else Submission.from_dict(row)


@dataclass
class WorkerState:
    """Everything a worker has learnt about one notebook so far; see :mod:`.worker`.

    Cell indexes are 0-based positions among all the notebook's cells.
    """

    done: bool = False
    current: str = ""  # what runs now, for "stopped while running ..."
    kernel_pids: list[int] = field(default_factory=list)  # unsandboxed only
    notes: list[str] = field(default_factory=list)
    error: str = ""  # the notebook could not be read
    fault: str = ""  # the worker itself failed
    stopped: str = ""  # why grading stopped early
    # From reading the notebook:
    definitions: dict[str, list[int]] | None = None  # exercise id -> cells defining it
    check_cells: dict[str, list[int]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # id -> name its check cell passes
    lessons: list[str] | None = None
    labels: dict[int, str] = field(default_factory=dict)
    # From running it:
    errors: dict[int, str] = field(default_factory=dict)
    skipped: dict[int, str] = field(default_factory=dict)
    defined: list[str] | None = None  # ids defined once every cell had run
    check_names: dict[str, list[str]] = field(default_factory=dict)
    results: dict[str, list[CheckResult]] = field(default_factory=dict)
    # Tampering: what was touched (notes), and exercises not checked because of it.
    tampering: list[str] = field(default_factory=list)
    tampered_exercises: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkerState:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkerState:
        known = {f.name for f in fields(cls)}
        state = cls(**{k: v for k, v in data.items() if k in known})
        for name in ("labels", "errors", "skipped"):  # JSON keys are strings
            setattr(state, name, {int(k): v for k, v in getattr(state, name).items()})
        state.results = {
            k: [c if isinstance(c, CheckResult) else CheckResult.from_dict(c) for c in v]
            for k, v in state.results.items()
        }
        return state
