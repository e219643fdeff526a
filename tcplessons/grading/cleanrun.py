"""The clean process where the checks run: the notebook's top-level code never ran here.

The worker (:mod:`tcplessons.grading.checking`) starts ``python -m
tcplessons.grading.cleanrun`` in a fresh, empty folder with a fresh home, and sends it
one JSON request a line on stdin; each answer is one JSON line on the process's original
stdout (fd 1 itself, and fd 0 and 2, then point at ``/dev/null``, so nothing the
learner's code prints or reads can mix with them).

- ``prepare`` imports tcplessons and the checks (the instructor's too, given as source
  text) before any learner code exists, and records every function, class, module and
  check the checks rely on;
- ``define`` runs the definitions the exercises need, extracted from the notebook with
  :mod:`ast` by the worker, in a fresh namespace;
- ``run_check`` runs one check on one exercise.

After ``define`` and each check, what was recorded is compared again: anything replaced
is reported as touched.  The first request carries a nonce that only this process's
memory and the worker know; every answer repeats it, so an answer forged by the
learner's code is told apart.  A timeout is the worker's SIGINT: the call in progress
answers ``interrupted``; one that does not is killed.
"""

from __future__ import annotations

import builtins
import json
import os
import signal
import sys
import types
from pathlib import Path
from typing import Any

__all__ = ["main"]

#: Modules (besides tcplessons') whose functions and classes the checks rely on.
WATCHED = (
    "builtins", "io", "json", "os", "queue", "select", "selectors", "socket", "struct",
    "threading", "_thread", "time", "codecs", "functools", "traceback",
)  # fmt: skip

_session: dict[str, Any] = {}
_busy = False


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
            if name == "builtins" and attr in ("_", "input"):
                continue
            if not (callable(value) or isinstance(value, types.ModuleType)):
                continue
            taken[(name, attr)] = value
            if isinstance(value, types.FunctionType):
                taken[(name, attr, "__code__")] = value.__code__
            if isinstance(value, type) and getattr(value, "__module__", None) in (name, "_socket"):
                members = vars(value)
                taken[(name, attr, "")] = frozenset(members)  # what it has: nothing added
                for key, member in list(members.items()):
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
        if isinstance(value, frozenset):
            added = sorted(got - value) if isinstance(got, frozenset) else []
            touched += [f"{key[0]}.{key[1]}.{a}".removeprefix("builtins.") for a in added]
            continue
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


def prepare(package_dir: str, private: list[list[str]]) -> dict[str, Any]:
    """Import tcplessons and the checks, before any learner code; record what they are."""
    here = str(Path(__file__).resolve().parent.parent)
    if here != package_dir:
        return {"error": f"the clean process imported tcplessons from {here}"}
    from tcplessons.exercises import all_exercises

    for name, source in private:
        namespace = {"__name__": f"tcplessons_private_checks_{Path(name).stem}", "__file__": name}
        exec(compile(source, f"<private checks {name}>", "exec"), namespace)
    _session["exercises"] = {e.id: e for e in all_exercises()}
    _session["snapshot"] = _snapshot()
    return {"checks": {e.id: [c.name for c in e.checks] for e in _session["exercises"].values()}}


def define(program: str, names: dict[str, str]) -> dict[str, Any]:
    """Run the notebook's extracted definitions in a fresh namespace; say which of the
    exercises (``names``: id -> the name to grade) exist, and whether one is the course's."""
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
            helpers[exercise_id] = (
                f"{exercise_id} is the course's own {own}, not the learner's code"
            )
    return {"defined": sorted(objects), "helpers": helpers, "error": error, "touched": _touched()}


def run_check(exercise_id: str, number: int) -> dict[str, Any]:
    """Run check ``number`` of ``exercise_id`` on the learner's object."""
    from tcplessons.exercises import Exercise

    exercise = _session["exercises"][exercise_id]
    check = exercise.checks[number]
    one = Exercise(exercise.id, exercise.lesson, exercise.summary, [check])
    result = one.run(_session["objects"][exercise_id]).results[0]
    answer = {
        "name": str(result.name),
        "passed": result.passed is True,
        "message": str(result.message),
    }
    return dict(answer, touched=_touched())


CALLS = {"prepare": prepare, "define": define, "run_check": run_check}


def _interrupt(signum, frame) -> None:
    if _busy:  # only a call in progress is stopped; between calls it is too late to matter
        raise KeyboardInterrupt


def serve(commands, channel) -> None:
    """Answer each request line of ``commands`` with one line on ``channel``."""
    global _busy
    nonce = None
    for line in commands:
        request = json.loads(line)
        if nonce is None:
            nonce = request.get("nonce", "")
        try:
            _busy = True
            answer = CALLS[request["call"]](*request["args"])
        except KeyboardInterrupt:
            answer = {"interrupted": True}
        except Exception as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0][:300]}
        finally:
            _busy = False
        answer["nonce"] = nonce
        channel.write(json.dumps(answer) + "\n")
        channel.flush()


def main() -> int:
    commands = os.fdopen(os.dup(0), "r", encoding="utf-8")  # os.dup: not inherited
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    nowhere = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(nowhere, fd)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    signal.signal(signal.SIGINT, _interrupt)
    serve(commands, channel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
