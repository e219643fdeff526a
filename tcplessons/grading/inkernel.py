"""What the grader runs inside kernels, in hidden cells; everything here answers by
writing JSON to a file the worker names, never by printing.

Two kernels per notebook (see :mod:`tcplessons.grading.worker`):

- the *notebook's kernel* ran every cell, as Run All; :func:`inventory` only says which
  exercise names it ended up defining.  Nothing it reports can gain a mark.
- the *clean kernel* never runs the notebook's top-level code.  :func:`prepare` imports
  tcplessons and the checks before any learner code exists and records what every
  function, class and module the checks rely on is; :func:`define` runs only the
  definitions the exercises need (extracted with :mod:`ast` by the worker) in a fresh
  namespace; :func:`run_check` runs one check.  After each, what was recorded is
  compared again, and anything replaced is reported as touched.  Every answer carries
  the nonce the worker put in the hidden cell, which the learner's code never sees.
"""

from __future__ import annotations

import builtins
import json
import sys
import types
from pathlib import Path
from typing import Any

#: Modules (besides tcplessons') whose functions and classes the checks rely on.
WATCHED = (
    "builtins", "io", "json", "os", "queue", "select", "selectors", "socket", "struct",
    "threading", "_thread", "time", "codecs", "functools", "traceback",
)  # fmt: skip
#: Names IPython itself puts in and takes out of builtins around every cell.
IPYTHON_BUILTINS = {"exit", "quit", "get_ipython", "display", "_", "__IPYTHON__", "input"}

_session: dict[str, Any] = {}


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


# -- the clean kernel ----------------------------------------------------------------
def _watched_modules() -> dict[str, types.ModuleType]:
    return {
        name: module
        for name, module in list(sys.modules.items())
        if isinstance(module, types.ModuleType)
        and (name == "tcplessons" or name.startswith("tcplessons.") or name in WATCHED)
    }


def _snapshot() -> dict[tuple, Any]:
    """Every function, class (and its methods), module and check the grading relies on."""
    taken: dict[tuple, Any] = {}
    for name, module in _watched_modules().items():
        taken[("sys.modules", name)] = module
        for attr, value in list(vars(module).items()):
            if name == "builtins" and attr in IPYTHON_BUILTINS:
                continue
            if not (callable(value) or isinstance(value, types.ModuleType)):
                continue
            taken[(name, attr)] = value
            if isinstance(value, types.FunctionType):
                taken[(name, attr, "__code__")] = value.__code__
            if isinstance(value, type) and getattr(value, "__module__", None) in (name, "_socket"):
                for key, member in list(vars(value).items()):
                    taken[(name, attr, key)] = member
    for exercise in _session.get("exercises", {}).values():
        taken[("check", exercise.id)] = tuple(exercise.checks)
        for check in exercise.checks:
            taken[("check", exercise.id, check.name)] = getattr(check.run, "__code__", check.run)
    return taken


def _touched() -> list[str]:
    """What has been replaced since :func:`prepare`, as ``socket.socket.recv``."""
    before = _session.get("snapshot", {})
    now = _snapshot()
    missing = object()
    touched = []
    for key, value in before.items():
        got = now.get(key, missing)
        if isinstance(value, tuple) and isinstance(got, tuple):
            if len(got) == len(value) and all(a is b for a, b in zip(got, value, strict=True)):
                continue
        if got is not value:
            if key[0] == "sys.modules":
                touched.append(f"sys.modules[{key[1]!r}]")
            elif key[0] == "check":
                touched.append(f"the checks of {'.'.join(key[1:])}")
            else:
                touched.append(".".join(k for k in key if k != "builtins") or "builtins")
    return touched


def prepare(answer_path: str, package_dir: str, private: list[list[str]], nonce: str) -> None:
    """Import tcplessons and the checks (with the instructor's, given as source text),
    before any learner code runs; record what they are."""
    if _package_dir() != package_dir:
        _write(answer_path, {"error": f"the clean kernel imported tcplessons from {_package_dir()}"})
        return
    from tcplessons.exercises import all_exercises

    for name, source in private:
        stem = Path(name).stem
        namespace = {"__name__": f"tcplessons_private_checks_{stem}", "__file__": name}
        exec(compile(source, f"<private checks {name}>", "exec"), namespace)
    _session.clear()
    _session["exercises"] = {e.id: e for e in all_exercises()}
    _session["snapshot"] = _snapshot()
    checks = {e.id: [c.name for c in e.checks] for e in _session["exercises"].values()}
    _write(answer_path, {"nonce": nonce, "checks": checks})


def _course_object(obj: Any) -> str:
    """The course's own object ``obj`` is, or subclasses (``tcplessons.LineSplitter``), or ""."""
    inner = getattr(obj, "func", obj)  # functools.partial
    candidates = [inner]
    if isinstance(inner, type):
        candidates = [c for c in inner.__mro__ if c is not object]
    for candidate in candidates:
        module = getattr(candidate, "__module__", "") or ""
        if isinstance(module, str) and (module == "tcplessons" or module.startswith("tcplessons.")):
            return f"tcplessons.{getattr(candidate, '__qualname__', type(candidate).__name__)}"
    return ""


def define(answer_path: str, program: str, names: dict[str, str], nonce: str) -> None:
    """Run the notebook's extracted definitions in a fresh namespace; say which of the
    exercises (``names``: id -> the name to grade) exist and what they are."""
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    error = ""
    try:
        exec(compile(program, "<the notebook's definitions>", "exec"), namespace)
    except Exception as exc:  # the learner's definitions raised: grade what exists
        error = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    objects = {i: namespace[n] for i, n in names.items() if n in namespace}
    _session["objects"] = objects
    helpers = {}
    for exercise_id, obj in objects.items():
        own = _course_object(obj)
        if own:
            helpers[exercise_id] = f"{exercise_id} is the course's own {own}, not the learner's code"
    answer = {"nonce": nonce, "defined": sorted(objects), "helpers": helpers, "error": error}
    answer["touched"] = _touched()
    _write(answer_path, answer)


def run_check(answer_path: str, exercise_id: str, number: int, nonce: str) -> None:
    """Run check ``number`` of ``exercise_id`` on the learner's object; write its result."""
    from tcplessons.exercises import Exercise

    exercise = _session["exercises"][exercise_id]
    check = exercise.checks[number]
    one = Exercise(exercise.id, exercise.lesson, exercise.summary, [check])
    try:
        result = one.run(_session["objects"][exercise_id]).results[0]
        name, passed, message = result.name, result.passed, result.message
    except KeyboardInterrupt:  # Exercise.run lets it through, so that the stop button works
        name, passed, message = check.name, False, "your code raised KeyboardInterrupt"
    touched = _touched()
    answer = {"nonce": nonce, "name": name, "passed": passed is True, "message": str(message)}
    _write(answer_path, dict(answer, touched=touched))
