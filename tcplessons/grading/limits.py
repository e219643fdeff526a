"""Why grading of a notebook stops early, and how time limits are written for a learner.

Kept apart from :mod:`.worker` so that every step raises the same classes, whether the
worker runs as ``python -m tcplessons.grading.worker`` (``__main__``) or is imported.
"""

from __future__ import annotations

__all__ = ["GiveUp", "OutOfTime", "Stop", "seconds"]


class Stop(Exception):
    """Grading of this notebook stops here; ``str(exc)`` says why, for every unchecked check."""


class OutOfTime(Stop):
    """The notebook's whole time budget is spent."""


class GiveUp(Stop):
    """The kernel had to be rebuilt too many times, or the notebook cannot be checked."""


def seconds(value: float) -> str:
    """``2 s``, ``1.5 s``: a time limit as a learner reads it (no 1.99146 s)."""
    return f"{round(float(value), 1):g} s"
