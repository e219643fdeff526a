"""The "own lessons" rule: which exercises a notebook is graded on and its total counts.

A notebook's own lessons are those of the exercises its check cells name
(``check("recv_message", recv_message)``); without check cells, those of the exercises
its ``exercise``-tagged cells define; without either (tags and check cells stripped),
none, and then every exercise it defines is graded.  A helper that happens to share
another lesson's exercise name (a ``recv_exactly`` in lesson 04) is not graded there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["counted_exercises", "is_elsewhere", "lesson_number", "notebook_lessons"]


def lesson_number(lesson: str) -> str:
    """``"02"`` for ``"02-phone-call-stream"``: how the course names a lesson in messages."""
    return lesson.split("-", 1)[0] if lesson else "?"


def notebook_lessons(
    checked: Iterable[str],
    tagged_definitions: Iterable[str],
    lesson_of: Mapping[str, str],
) -> list[str] | None:
    """The notebook's lessons, from the exercises its check cells name (``checked``),
    else those its ``exercise`` cells define; ``None`` when neither names one we know."""
    lessons = {lesson_of[e] for e in checked if e in lesson_of}
    if not lessons:
        lessons = {lesson_of[e] for e in tagged_definitions if e in lesson_of}
    return sorted(lessons) if lessons else None


def is_elsewhere(exercise_lesson: str, lessons: list[str] | None) -> bool:
    """Whether an exercise of ``exercise_lesson`` is another lesson's, for this notebook."""
    return lessons is not None and exercise_lesson not in lessons


def counted_exercises(lessons: Iterable[str], lesson_of: Mapping[str, str]) -> list[str]:
    """Every exercise of ``lessons``, attempted or not: what a notebook's total counts."""
    wanted = set(lessons)
    return [e for e, lesson in lesson_of.items() if lesson in wanted]
