"""Exercises and their checks.

In a notebook, after the learner's cell defines ``recv_exactly``::

    check("recv_exactly", recv_exactly)     # shows a report of every check

The checks live in this package (one module per concept), not in the notebook.  The
instructor's grader (``python -m tcplessons grade``) runs the same checks.
"""

from __future__ import annotations

from typing import Any

from .model import Check, CheckFailed, Exercise, Report, Result
from .registry import all_exercises, get_exercise, load_checks_dir, register

__all__ = [
    "Check",
    "CheckFailed",
    "Exercise",
    "Report",
    "Result",
    "all_exercises",
    "check",
    "get_exercise",
    "load_checks_dir",
    "register",
]


def check(exercise_id: str, obj: Any) -> Report:
    """Run the checks of exercise ``exercise_id`` on ``obj`` (your function or class).

    Returns a :class:`Report`; as the last line of a cell it displays itself.
    """
    return get_exercise(exercise_id).run(obj)
