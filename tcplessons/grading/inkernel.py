"""What the grader runs inside the notebook's own kernel, in a hidden cell: it answers
by writing JSON to a file the worker names, never by printing.

That kernel ran every cell, as Run All; :func:`inventory` only says which exercise
names it ended up defining.  Nothing it reports can gain a mark: the checks run in a
clean process (:mod:`tcplessons.grading.cleanrun`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _write(path: str, answer: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(answer, f)


def _package_dir() -> str:
    return str(Path(__file__).resolve().parent.parent)


# -- the notebook's kernel ------------------------------------------------------------
def inventory(answer_path: str, package_dir: str, ids: list[str], aliases: dict[str, str]) -> None:
    """Which of ``ids`` the notebook's namespace defines (or its check cell's alias does)."""
    if _package_dir() != package_dir:
        here = _package_dir()
        message = f"the notebook's kernel imported a different tcplessons (from {here})"
        _write(answer_path, {"error": message + ", so it was not checked"})
        return
    import IPython

    namespace = IPython.get_ipython().user_ns
    defined = [i for i in ids if i in namespace]
    aliased = {i: aliases[i] for i in ids if i not in namespace and aliases.get(i) in namespace}
    _write(answer_path, {"defined": defined + sorted(aliased), "aliased": aliased})
