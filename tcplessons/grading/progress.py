"""How far a batch has got, on stderr: a bar on a terminal, else a line per notebook."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from .results import Submission, as_submission

__all__ = ["Progress"]


class Progress:
    """Call :meth:`start`, then :meth:`finished` with each graded submission."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True):
        self.total, self.done = total, 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def start(self) -> None:
        if self.enabled and self.tty:
            self._bar("")

    def _bar(self, last: str) -> None:
        width = 30
        filled = width * self.done // max(1, self.total)
        bar = f"[{'#' * filled}{'.' * (width - filled)}]"
        self.stream.write(f"\rgrading {bar} {self.done}/{self.total} {last[-40:]}".ljust(100))
        self.stream.flush()

    def finished(self, submission: Submission | dict) -> None:
        self.done += 1
        if not self.enabled:
            return
        sub = as_submission(submission)
        # Out of every exercise of the notebook's own lessons, attempted or not.
        counted = [e for e in sub.exercises if e.id in sub.counted] or [
            e for e in sub.exercises if e.attempted
        ]
        score, out_of = sum(e.score for e in counted), sum(e.max_score for e in counted)
        attempted = any(e.attempted for e in sub.exercises)
        summary = f"{score}/{out_of} checks passed" if attempted else "no exercise attempted"
        if sub.unreadable:
            summary = "NOT GRADED: the notebook could not be read"
        if sub.tampered:
            summary += " (TAMPERED)"
        if self.tty:
            self._bar(Path(sub.notebook).name)
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"[{self.done}/{self.total}] graded {sub.notebook}: {summary}\n")
        self.stream.flush()
