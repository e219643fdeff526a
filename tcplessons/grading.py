"""Grade a class's notebooks: run each one like Run All, then check its exercises.

From a terminal (see ``python -m tcplessons grade --help``)::

    python -m tcplessons grade submissions/                 # a table of scores
    python -m tcplessons grade submissions/ --csv grades.csv --jobs 4
    python -m tcplessons grade alice.ipynb --json           # machine-readable
    python -m tcplessons grade submissions/ --checks my_checks/   # plus private checks

From Python, :func:`grade` returns the same results as dictionaries; then call
:func:`format_table`, :func:`write_csv` or :func:`to_json` on them.

How a notebook is graded: a worker process (:mod:`tcplessons.grading_worker`) copies
its folder to a temporary one, starts a fresh kernel of this Python there, runs every
cell, and then runs each check of each exercise the notebook defined *inside that
kernel* (the last definition wins, as in the kernel), one check per hidden cell.
Only the exercises of the notebook's own lessons are graded and counted in its total
(the lessons its check cells name, else its ``exercise`` cells'; see ``grade --help``):
a helper that shares another lesson's exercise name is not.  Exercises of its lessons
the notebook did not define are "not attempted".  A cell or check that runs
too long is interrupted; one that kills the kernel costs only itself; the whole notebook
has a time budget after which its worker is killed.  Whatever a learner's code does, the
grader goes on with the next notebook.

The bottom of this module holds the two helpers the worker calls inside the learner's
kernel; they import nothing heavy, since they run in every graded kernel.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, TextIO

__all__ = ["GradingError", "Progress", "find_notebooks", "format_table", "grade", "to_json", "write_csv"]

#: Default seconds for one whole notebook: its cells and all its checks.
DEFAULT_TIMEOUT = 120.0
#: Default seconds for one cell or one check (capped at a quarter of the notebook's time).
DEFAULT_CELL_TIMEOUT = 30.0
#: Seconds the worker gets beyond the notebook's time to tidy up before it is killed.
KILL_GRACE = 3.0
#: Characters of a worker's stderr kept to explain a grader fault.
STDERR_KEPT = 4000

NOT_ATTEMPTED = "not attempted"


class GradingError(Exception):
    """Bad arguments (a missing path, no notebooks, broken private checks): exit status 2."""


def default_cell_timeout(timeout: float) -> float:
    """The time one cell or check gets when ``--cell-timeout`` is not given."""
    return min(DEFAULT_CELL_TIMEOUT, max(1.0, timeout / 4))


# -- what to grade ---------------------------------------------------------------------
def find_notebooks(paths: Sequence[str]) -> List[Path]:
    """The notebooks named by ``paths``: files as given, folders' ``*.ipynb`` sorted.

    Folders are searched with their subfolders (a class's submissions in a folder per
    learner), skipping ``.ipynb_checkpoints`` and hidden folders.  A notebook named twice
    is graded once.  Raises :class:`GradingError` for a path that does not exist or when
    no notebook is found.
    """
    found: List[Path] = []
    seen = set()
    for text in paths:
        path = Path(text)
        if path.is_dir():
            candidates = sorted(
                p
                for p in path.rglob("*.ipynb")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts[:-1])
            )
        elif path.is_file():
            candidates = [path]
        else:
            raise GradingError(f"no such file or folder: {text}")
        for candidate in candidates:
            key = os.path.realpath(candidate)
            if key not in seen:
                seen.add(key)
                found.append(candidate)
    if not found:
        raise GradingError(f"no notebooks (*.ipynb) found in: {' '.join(paths)} (nor in its subfolders)")
    return found


def exercise_catalogue(checks_dir: Optional[str] = None) -> List[Dict[str, Any]]:
    """Every exercise the grader knows (the course's, plus ``checks_dir``'s), in order."""
    from .exercises import all_exercises, load_checks_dir

    if checks_dir:
        try:
            load_checks_dir(checks_dir)
        except NotADirectoryError as exc:
            raise GradingError(str(exc)) from None
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            raise GradingError(f"the private checks in {checks_dir} failed to load: {reason}") from None
    return [
        {"id": e.id, "lesson": e.lesson, "checks": [c.name for c in e.checks]} for e in all_exercises()
    ]


# -- grading one notebook ------------------------------------------------------------
_running: Dict[int, subprocess.Popen] = {}
_running_lock = threading.Lock()
_stopping = threading.Event()  # set on Ctrl-C: start no more workers


def _kill_group(pid: int) -> None:
    """Kill process group ``pid`` (a worker, or a kernel: each leads a group of its own)."""
    if not hasattr(os, "killpg"):  # Windows: no process groups to kill
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:  # already gone
        pass


#: Seconds a worker gets after SIGTERM to stop its kernel and what the notebook started.
STOP_GRACE = 2.0


def _stop_workers(procs: List[subprocess.Popen]) -> None:
    """SIGTERM each worker (it kills its kernel and every process below it), then SIGKILL its group."""
    for proc in procs:
        try:
            proc.send_signal(signal.SIGTERM)
        except OSError:
            pass
    end = time.monotonic() + STOP_GRACE
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        _kill_group(proc.pid)


def _read_json(path: Path) -> Optional[Dict[str, Any]]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _grade_one(
    notebook: Path,
    catalogue: List[Dict[str, Any]],
    workdir: Path,
    number: int,
    timeout: float,
    cell_timeout: float,
    checks_dir: str,
) -> Dict[str, Any]:
    """Run the worker for one notebook under a hard time limit; return its submission row."""
    state_path = workdir / f"nb{number}-state.json"
    job_path = workdir / f"nb{number}-job.json"
    err_path = workdir / f"nb{number}-stderr.txt"
    job = {
        "notebook": str(notebook.resolve()),
        "state": str(state_path),
        "scratch": str(workdir / f"nb{number}"),
        "timeout": timeout,
        "cell_timeout": cell_timeout,
        "checks_dir": str(Path(checks_dir).resolve()) if checks_dir else "",
        "package_dir": str(Path(__file__).resolve().parent),
        "exercises": catalogue,
        "started": time.time(),  # the budget counts from here, the worker's own start-up too
    }
    job_path.write_text(json.dumps(job))
    killed = False
    with open(err_path, "wb") as err, _running_lock:  # the lock: Ctrl-C sees every worker started
        if _stopping.is_set():
            return _submission(str(notebook), catalogue, {}, "grading was interrupted", "")
        proc = subprocess.Popen(
            [sys.executable, "-m", "tcplessons.grading_worker", str(job_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=str(workdir),
            start_new_session=True,  # its own process group: one kill takes all of it
        )
        _running[proc.pid] = proc
    try:
        proc.wait(timeout=timeout + KILL_GRACE)
    except subprocess.TimeoutExpired:
        killed = True
        _stop_workers([proc])
        proc.wait()
    finally:
        with _running_lock:
            _running.pop(proc.pid, None)
    state = _read_json(state_path) or {}
    if killed or proc.returncode != 0:
        for pid in state.get("kernel_pids", []):  # kernels lead process groups of their own
            _kill_group(pid)
    fault = ""
    stop = ""
    if killed:
        where = state.get("current") or "its first cell"
        stop = f"grading this notebook was stopped after {timeout:g} s (while running {where})"
    elif state.get("fault") or proc.returncode not in (0, None) and proc.returncode > 0:
        stderr = err_path.read_bytes()[-STDERR_KEPT:].decode("utf-8", "replace").strip()
        last = stderr.splitlines()[-1] if stderr else f"exit status {proc.returncode}"
        fault = state.get("fault") or last
        stop = f"the grader failed on this notebook: {fault}"
    elif not state.get("done"):
        signal_number = -proc.returncode if proc.returncode else "?"
        stop = f"the grading process was killed (signal {signal_number}), perhaps by the notebook's code"
    return _submission(str(notebook), catalogue, state, stop, fault)


def _explain_missing(exercise_id: str, state: Dict[str, Any]) -> str:
    """Why a defined-in-the-source exercise was not defined in the kernel, if we know."""
    cells = state.get("definitions", {}).get(exercise_id) or []
    labels = state.get("labels", {})
    for index in reversed(cells):
        key = str(index)
        label = labels.get(key, f"cell {index + 1}")
        if key in state.get("skipped", {}):
            return f"{NOT_ATTEMPTED}: {label}, where {exercise_id} is defined, {state['skipped'][key]}"
        if key in state.get("errors", {}):
            return f"{NOT_ATTEMPTED}: {label}, where {exercise_id} is defined, raised {state['errors'][key]}"
    return NOT_ATTEMPTED


def _submission(
    notebook: str, catalogue: List[Dict[str, Any]], state: Dict[str, Any], stop: str, fault: str
) -> Dict[str, Any]:
    """Turn the worker's state into the row the reports print."""
    stop = stop or state.get("stopped", "") or ""
    error = state.get("error", "")
    defined = state.get("defined")
    results = state.get("results", {})
    lessons = state.get("lessons")
    exercises = []
    for ex in catalogue:
        got = results.get(ex["id"])
        elsewhere = lessons is not None and ex.get("lesson") not in lessons
        if elsewhere and (
            (defined is not None and ex["id"] in defined) or (defined is None and state.get("definitions", {}).get(ex["id"]))
        ):
            attempted = False
            message = f"defined, but lesson {_lesson_number(ex.get('lesson', ''))}'s exercise: not graded in this notebook"
            checks = [{"name": name, "passed": False, "message": message} for name in ex["checks"]]
        elif got is not None or (defined is not None and ex["id"] in defined):
            got = got or {}
            names = got.get("names") or ex["checks"]
            checks = [dict(c) for c in got.get("checks", [])]
            for name in names[len(checks) :]:
                checks.append({"name": name, "passed": False, "message": f"not checked: {stop or 'grading stopped'}"})
            attempted = True
        elif defined is None and stop and state.get("definitions", {}).get(ex["id"]):
            # Grading stopped before it could look; the source defines it, so count it.
            attempted = True
            checks = [{"name": name, "passed": False, "message": f"not checked: {stop}"} for name in ex["checks"]]
        else:
            attempted = False
            if error:
                message = f"{NOT_ATTEMPTED}: {error}"
            elif defined is None and stop and "definitions" not in state:
                message = f"not checked: {stop}"  # it never got as far as reading the notebook
            elif defined is None and stop:
                message = NOT_ATTEMPTED
            else:
                message = _explain_missing(ex["id"], state)
            checks = [{"name": name, "passed": False, "message": message} for name in ex["checks"]]
        score = sum(1 for c in checks if c["passed"])
        exercises.append(
            {
                "id": ex["id"],
                "attempted": attempted,
                "passed": attempted and bool(checks) and score == len(checks),
                "score": score,
                "max_score": len(checks),
                "checks": checks,
            }
        )
    notes = list(state.get("notes", []))
    notes += _definition_notes(state, [ex["id"] for ex in exercises if ex["attempted"]])
    if error:
        notes.append(f"NOT GRADED: {error}")
    if stop and stop not in " ".join(notes):
        notes.append(stop)
    if lessons is None:  # no exercise cells (tags stripped): the lessons of what it defines
        lessons = sorted({ex.get("lesson", "") for ex, row in zip(catalogue, exercises) if row["attempted"]})
    counted = [ex["id"] for ex in catalogue if ex.get("lesson") in lessons]
    return {
        "notebook": notebook,
        "exercises": exercises,
        "notes": notes,
        "fault": fault,
        "lessons": lessons,
        "counted": counted,
        "unreadable": bool(error),
    }


def _lesson_number(lesson: str) -> str:
    return lesson.split("-", 1)[0] if lesson else "?"


def _definition_notes(state: Dict[str, Any], graded: List[str]) -> List[str]:
    """A note for each graded exercise defined in several cells, or again after its check cell."""
    notes = []
    labels = state.get("labels", {})
    label = lambda index: labels.get(str(index), f"cell {index + 1}")  # noqa: E731
    for exercise_id in graded:
        cells = sorted(state.get("definitions", {}).get(exercise_id) or [])
        checked = sorted(state.get("check_cells", {}).get(exercise_id) or [])
        later = [i for i in cells if checked and i > checked[0]]
        if later:
            notes.append(
                f"{exercise_id} is defined again in {label(later[-1])}, after its check in {label(checked[0])}:"
                " that later definition is the one graded (the last definition wins, as in the kernel)"
            )
        elif len(cells) > 1:
            notes.append(
                f"{exercise_id} is defined in {len(cells)} cells ({', '.join(label(i) for i in cells)}):"
                f" the last one, {label(cells[-1])}, is the one graded"
            )
    return notes


# -- grading many ------------------------------------------------------------------------
class Progress:
    """How far a batch has got, on ``stream`` (stderr): a bar on a terminal, else lines."""

    def __init__(self, total: int, stream: Optional[TextIO] = None, enabled: bool = True):
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
        text = f"\rgrading [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {last[-40:]}"
        self.stream.write(text.ljust(100))
        self.stream.flush()

    def finished(self, submission: Dict[str, Any]) -> None:
        self.done += 1
        if not self.enabled:
            return
        # Out of every exercise of the notebook's own lessons, attempted or not.
        counted = [e for e in submission["exercises"] if e.get("id") in (submission.get("counted") or ())]
        counted = counted or [e for e in submission["exercises"] if e["attempted"]]
        score, out_of = sum(e["score"] for e in counted), sum(e["max_score"] for e in counted)
        attempted = any(e["attempted"] for e in submission["exercises"])
        summary = f"{score}/{out_of} checks passed" if attempted else "no exercise attempted"
        if submission.get("unreadable"):
            summary = "NOT GRADED: the notebook could not be read"
        if self.tty:
            self._bar(Path(submission["notebook"]).name)
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"[{self.done}/{self.total}] graded {submission['notebook']}: {summary}\n")
        self.stream.flush()


def grade(
    paths: Sequence[str],
    *,
    jobs: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
    cell_timeout: Optional[float] = None,
    checks_dir: Optional[str] = None,
    progress: Optional[Progress] = None,
) -> List[Dict[str, Any]]:
    """Grade the notebooks in ``paths``; return one submission dict per notebook, in order.

    Each has ``notebook``, ``exercises`` (the ``--json`` shape), ``notes`` (what happened
    while running it) and ``fault`` (non-empty if the grader itself failed on it).  Pass
    the list to :func:`format_table`, :func:`write_csv` or :func:`to_json`.
    """
    if jobs < 1:
        raise GradingError("--jobs must be at least 1")
    if timeout <= 0:
        raise GradingError("--timeout must be more than 0 seconds")
    if cell_timeout is None:
        cell_timeout = default_cell_timeout(timeout)
    if cell_timeout <= 0:
        raise GradingError("--cell-timeout must be more than 0 seconds")
    notebooks = find_notebooks(paths)
    catalogue = exercise_catalogue(checks_dir)
    progress = progress or Progress(len(notebooks), enabled=False)
    progress.total = len(notebooks)
    results: List[Optional[Dict[str, Any]]] = [None] * len(notebooks)
    with tempfile.TemporaryDirectory(prefix="tcplessons-grading-", ignore_cleanup_errors=True) as tmp:
        progress.start()
        pool = ThreadPoolExecutor(max_workers=jobs)
        futures: Dict[Any, int] = {}
        try:
            futures = {
                pool.submit(_grade_one, nb, catalogue, Path(tmp), i, timeout, cell_timeout, checks_dir or ""): i
                for i, nb in enumerate(notebooks)
            }
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                progress.finished(results[futures[future]])
        except BaseException:
            for future in futures:
                future.cancel()
            with _running_lock:
                _stopping.set()
                procs = list(_running.values())
            _stop_workers(procs)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return [r for r in results if r is not None]


# -- reports -----------------------------------------------------------------------------
def to_json(submissions: Iterable[Dict[str, Any]]) -> str:
    """The ``--json`` report: ``{"submissions": [{"notebook", "exercises": [...], ...}]}``.

    Each submission also has ``notes`` (what happened while running it, a list of
    strings), ``fault`` (why the grader itself failed on it, or null), ``lessons`` (the
    lessons its total counts) and ``unreadable`` (true if it could not be read at all).
    """
    shaped = [
        {
            "notebook": s["notebook"],
            "exercises": s["exercises"],
            "notes": list(s.get("notes", [])),
            "fault": s.get("fault") or None,
            "lessons": list(s.get("lessons") or []),
            "unreadable": bool(s.get("unreadable")),
        }
        for s in submissions
    ]
    return json.dumps({"submissions": shaped}, indent=2, ensure_ascii=False)


def _own(sub: Dict[str, Any], columns: List[str]) -> set:
    """Ids of the exercises a notebook's total counts: every exercise of its own lessons.

    A notebook's lessons are those its check cells name (or, without them, those of its
    ``exercise`` cells, or of the exercises it defines); see
    :meth:`tcplessons.grading_worker.Worker.notebook_lessons`.  A row with none (nothing
    attempted, or not made by :func:`grade`) counts every shown column.
    """
    return set(sub.get("counted") or columns)


def _columns(submissions: List[Dict[str, Any]], every: bool = False) -> List[str]:
    """Exercises of the notebooks' lessons or attempted (or ``every`` one), in course order."""
    if every and submissions:
        return [ex["id"] for ex in submissions[0]["exercises"]]
    ids: List[str] = []
    for sub in submissions:
        for ex in sub["exercises"]:
            if ex["attempted"] and ex["id"] not in ids:
                ids.append(ex["id"])
        ids += [i for i in sub.get("counted") or [] if i not in ids]
    order = [ex["id"] for ex in submissions[0]["exercises"]] if submissions else []
    return [i for i in order if i in ids]


def _totals(sub: Dict[str, Any], columns: List[str]) -> tuple:
    """(checks passed, checks) over the exercises of this notebook's own lessons."""
    own = _own(sub, columns)
    counted = [ex for ex in sub["exercises"] if ex["id"] in own]
    return sum(ex["score"] for ex in counted), sum(ex["max_score"] for ex in counted)


def format_table(submissions: List[Dict[str, Any]], every_exercise: bool = False) -> str:
    """A table of notebook × exercise scores, then what went wrong, notebook by notebook.

    Columns: the exercises at least one notebook attempted, or all with ``every_exercise``.
    """
    columns = _columns(submissions, every_exercise)
    header = ["notebook"] + columns + ["total"]
    rows = []
    for sub in submissions:
        by_id = {ex["id"]: ex for ex in sub["exercises"]}
        own = _own(sub, columns)
        cells = [sub["notebook"]]
        for ex_id in columns:
            ex = by_id[ex_id]
            if ex["attempted"]:
                cells.append(f"{ex['score']}/{ex['max_score']}")
            else:
                cells.append("-" if ex_id in own else "")
        score, out_of = _totals(sub, columns)
        cells.append("NOT GRADED" if sub.get("unreadable") else f"{score}/{out_of}")
        rows.append(cells)
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]
    out.append("")
    if columns:
        out.append(
            "score = checks passed / checks; - = not attempted (the notebook does not define it);"
            " blank = not one of the notebook's lessons"
        )
        out.append("total = every exercise of the notebook's own lessons (those its check cells name)")
    else:
        out.append("No notebook defined any exercise the grader knows.")
    details = []
    for sub in submissions:
        lines = []
        for ex in sub["exercises"]:
            if ex["attempted"] and not ex["passed"]:
                lines.append(f"  {ex['id']}: {ex['score']} of {ex['max_score']} checks passed")
                messages = {check["message"] for check in ex["checks"]}
                if ex["score"] == 0 and len(messages) == 1 and len(ex["checks"]) > 1:
                    # a stub, or one mistake that fails everything: say it once
                    lines.append("    every check failed with:")
                    lines += [f"           {text}" for text in messages.pop().splitlines()]
                    continue
                for check in ex["checks"]:
                    if not check["passed"]:
                        lines.append(f"    [FAIL] {check['name']}")
                        lines += [f"           {text}" for text in check["message"].splitlines()]
            elif (
                not ex["attempted"]
                and not sub.get("unreadable")  # its note says it once
                and ex["checks"]
                and ex["checks"][0]["message"] != NOT_ATTEMPTED
                and not any(note in ex["checks"][0]["message"] for note in sub["notes"])
            ):
                lines.append(f"  {ex['id']}: {ex['checks'][0]['message']}")
        lines += [f"  note: {note}" for note in sub["notes"]]
        if lines:
            details += ["", sub["notebook"]] + lines
    if details:
        out += ["", "What went wrong", "==============="] + details
    return "\n".join(out) + "\n"


def write_csv(submissions: List[Dict[str, Any]], target, every_exercise: bool = False) -> None:
    """A gradebook: one row per notebook, a column per attempted exercise, then the total.

    ``target`` is a path or an open text file.  Columns: ``notebook``, each exercise id
    (checks passed; 0 when not attempted; empty when not one of the notebook's lessons),
    ``total`` and ``out_of`` (over the notebook's own lessons) and ``notes``.
    """
    columns = _columns(submissions, every_exercise)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["notebook"] + columns + ["total", "out_of", "notes"])
    for sub in submissions:
        by_id = {ex["id"]: ex for ex in sub["exercises"]}
        own = _own(sub, columns)
        score, out_of = _totals(sub, columns)
        scores = [by_id[c]["score"] if c in own or by_id[c]["attempted"] else "" for c in columns]
        writer.writerow([sub["notebook"]] + scores + [score, out_of, "; ".join(sub["notes"])])
    if hasattr(target, "write"):
        target.write(buffer.getvalue())
    else:
        Path(target).write_text(buffer.getvalue(), encoding="utf-8")


# -- inside the learner's kernel -----------------------------------------------------------
# The worker runs these in hidden cells of the graded notebook's kernel.  They answer by
# writing JSON to a file, never by printing: the learner's threads may print at any time.

_private_loaded: set = set()
#: What each exercise's name held when the notebook's cells had all run: checks run on
#: that object even if an earlier check's call rebinds the name.
_at_the_end: Dict[str, Any] = {}


def _write_answer(path: str, answer: Dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(answer, f)


def _load_private(checks_dir: str) -> None:
    if checks_dir and checks_dir not in _private_loaded:
        from .exercises import load_checks_dir

        _private_loaded.add(checks_dir)
        load_checks_dir(checks_dir)


def _user_namespace() -> Dict[str, Any]:
    import IPython

    return IPython.get_ipython().user_ns


def _kernel_inventory(answer_path: str, checks_dir: str, package_dir: str, aliases: Optional[Dict[str, str]] = None) -> None:
    """Write which exercises the kernel's namespace defines, with their check names.

    ``aliases`` maps an exercise id to the name its check cell passes
    (``check("open_doorbell", open_door_bell)``): when the id itself is not defined, the
    object the learner checked is graded instead, and reported in ``"aliased"``.
    """
    aliases = aliases or {}
    here = str(Path(__file__).resolve().parent)
    if here != package_dir:
        _write_answer(
            answer_path,
            {"error": f"the notebook's kernel imported a different tcplessons (from {here}), so it was not checked"},
        )
        return
    try:
        from .exercises import all_exercises

        _load_private(checks_dir)
        namespace = _user_namespace()
        found = {e.id: e.id for e in all_exercises() if e.id in namespace}
        aliased = {
            e.id: aliases[e.id]
            for e in all_exercises()
            if e.id not in namespace and aliases.get(e.id) in namespace
        }
        found.update(aliased)
        defined = {e.id: [c.name for c in e.checks] for e in all_exercises() if e.id in found}
    except Exception as exc:  # e.g. the notebook replaced a module the checks need
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        _write_answer(answer_path, {"error": f"the checks could not be loaded in this notebook's kernel ({reason})"})
        return
    _at_the_end.clear()
    _at_the_end.update((name, namespace[found[name]]) for name in defined)
    _write_answer(answer_path, {"defined": defined, "aliased": aliased})


def _kernel_check(answer_path: str, checks_dir: str, exercise_id: str, number: int) -> None:
    """Run check ``number`` of ``exercise_id`` on the learner's object; write its result."""
    from .exercises import Exercise, get_exercise

    _load_private(checks_dir)
    exercise = get_exercise(exercise_id)
    one = Exercise(exercise.id, exercise.lesson, exercise.summary, [exercise.checks[number]])
    obj = _at_the_end[exercise_id] if exercise_id in _at_the_end else _user_namespace()[exercise_id]
    try:
        result = one.run(obj).to_dict()["checks"][0]
    except KeyboardInterrupt:  # Exercise.run lets it through, so that the stop button works
        name = exercise.checks[number].name
        result = {"name": name, "passed": False, "message": "your code raised KeyboardInterrupt"}
    _write_answer(answer_path, result)
