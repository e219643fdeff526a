"""The grader's reports: a readable table, ``--json``, the CSV gradebook, and the merge of
shards' JSON parts into one gradebook.

Every function takes :class:`~.results.Submission` rows (or their ``--json`` dicts).
Failed checks are shown with the learner's own report (:class:`tcplessons.exercises.Report`),
so the instructor reads exactly what the notebook showed the learner.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .lessons import counted_exercises
from .results import Submission, as_submission
from .rows import NOT_ATTEMPTED

__all__ = ["format_table", "merge_parts", "to_json", "write_csv"]


def to_json(submissions: Iterable[Submission | dict], extra: dict[str, Any] | None = None) -> str:
    """``{"submissions": [{"notebook", "exercises": [...], "notes", "fault", "lessons",
    "unreadable", "tampered", "sandbox"}]}``, plus ``extra`` top-level keys (a shard's)."""
    data: dict[str, Any] = {"submissions": [as_submission(s).to_dict() for s in submissions]}
    data.update(extra or {})
    return json.dumps(data, indent=2, ensure_ascii=False)


def _columns(subs: list[Submission], every: bool = False) -> list[str]:
    """Exercises of the notebooks' lessons or attempted (or ``every`` one), in course order."""
    order = [ex.id for ex in subs[0].exercises] if subs else []
    if every:
        return order
    wanted: set[str] = set()
    for sub in subs:
        wanted |= {ex.id for ex in sub.exercises if ex.attempted} | set(sub.counted)
    return [i for i in order if i in wanted]


def _totals(sub: Submission, columns: list[str]) -> tuple[int, int]:
    """(checks passed, checks) over the exercises of this notebook's own lessons."""
    own = sub.own(columns)
    counted = [ex for ex in sub.exercises if ex.id in own]
    return sum(ex.score for ex in counted), sum(ex.max_score for ex in counted)


def _what_went_wrong(sub: Submission) -> list[str]:
    from ..exercises.model import Report, Result

    lines = []
    for ex in sub.exercises:
        if ex.attempted and not ex.passed:
            report = Report(ex.id, [Result(c.name, c.passed, c.message) for c in ex.checks])
            lines.append(textwrap.indent(str(report), "  "))
        elif (
            not ex.attempted
            and not sub.unreadable  # its note says it once
            and ex.checks
            and ex.checks[0].message != NOT_ATTEMPTED
            and not any(note in ex.checks[0].message for note in sub.notes)
        ):
            lines.append(f"  {ex.id}: {ex.checks[0].message}")
    return lines + [f"  note: {note}" for note in sub.notes]


def format_table(submissions: list[Submission | dict], every_exercise: bool = False) -> str:
    """A table of notebook × exercise scores, then what went wrong, notebook by notebook.

    Columns: the exercises at least one notebook attempted or its lessons have (all with
    ``every_exercise``).  A TAMPERED row tried to change how it is graded.
    """
    subs = [as_submission(s) for s in submissions]
    columns = _columns(subs, every_exercise)
    header = ["notebook", *columns, "total"]
    rows = []
    for sub in subs:
        by_id = {ex.id: ex for ex in sub.exercises}
        own = sub.own(columns)
        cells = [sub.notebook]
        for ex_id in columns:
            ex = by_id[ex_id]
            cells.append(
                f"{ex.score}/{ex.max_score}" if ex.attempted else ("-" if ex_id in own else "")
            )
        score, out_of = _totals(sub, columns)
        total = "NOT GRADED" if sub.unreadable else f"{score}/{out_of}"
        cells.append(f"{total} TAMPERED" if sub.tampered else total)
        rows.append(cells)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows), ""]
    if columns:
        out.append(
            "score = checks passed / checks; - = not attempted (the notebook does not define it);"
            " blank = not one of the notebook's lessons"
        )
        out.append(
            "total = every exercise of the notebook's own lessons (those its check cells name)"
        )
    else:
        out.append("No notebook defined any exercise the grader knows.")
    if any(s.tampered for s in subs):
        out.append("TAMPERED = the notebook tried to change how it is graded (see its notes)")
    sandboxes = sorted({s.sandbox for s in subs})
    if sandboxes:
        how = {"bwrap": "each in its own bwrap sandbox", "off": "without a sandbox"}
        out.append("graded " + " and ".join(how.get(s, s) for s in sandboxes))
    details = []
    for sub in subs:
        lines = _what_went_wrong(sub)
        if lines:
            details += ["", sub.notebook, *lines]
    if details:
        out += ["", "What went wrong", "===============", *details]
    return "\n".join(out) + "\n"


def write_csv(submissions: list[Submission | dict], target, every_exercise: bool = False) -> None:
    """A gradebook: one row per notebook, a column per exercise, then the total.

    ``target`` is a path or an open text file.  Columns: ``notebook``, each exercise id
    (checks passed; 0 when not attempted; empty when not one of the notebook's lessons),
    ``total`` and ``out_of`` (over the notebook's own lessons) and ``notes``.
    """
    subs = [as_submission(s) for s in submissions]
    columns = _columns(subs, every_exercise)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["notebook", *columns, "total", "out_of", "notes"])
    for sub in subs:
        by_id = {ex.id: ex for ex in sub.exercises}
        own = sub.own(columns)
        score, out_of = _totals(sub, columns)
        scores = [by_id[c].score if c in own or by_id[c].attempted else "" for c in columns]
        writer.writerow([sub.notebook, *scores, score, out_of, "; ".join(sub.notes)])
    if hasattr(target, "write"):
        target.write(buffer.getvalue())
    else:
        Path(target).write_text(buffer.getvalue(), encoding="utf-8")


class MergeError(Exception):
    """Parts that do not make one whole run (missing, repeated or from different runs)."""


def merge_parts(paths: list[str]) -> list[Submission]:
    """The submissions of every shard's JSON part, in the order one run would give them."""
    parts = []
    for path in paths:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            shard = data["shard"]
            parts.append((int(shard["index"]), int(shard["count"]), data))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise MergeError(f"{path} is not a shard's JSON (grade --shard K/N): {exc}") from None
    counts = {count for _, count, _ in parts}
    if len(counts) != 1:
        raise MergeError(f"the parts come from different splits: {sorted(counts)} shards")
    count = counts.pop()
    indexes = sorted(index for index, _, _ in parts)
    if indexes != list(range(1, count + 1)):
        missing = sorted(set(range(1, count + 1)) - set(indexes))
        raise MergeError(f"need each of the {count} shards once; missing {missing}, got {indexes}")
    subs = []
    for _, _, data in sorted(parts, key=lambda p: p[0]):
        lesson_of = data.get("lessons_of") or {}
        for row in data["submissions"]:
            sub = Submission.from_dict(row)
            sub.counted = counted_exercises(sub.lessons, lesson_of)
            subs.append(sub)
    return subs
