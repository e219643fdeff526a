"""Grade one notebook: the process the grader starts for each submission.

``python -m tcplessons grade`` (see :mod:`tcplessons.grading`) starts one of these per
notebook, in a process group of its own, and kills that group if the notebook's time
budget runs out.  This process:

1. copies the notebook's folder to a temporary folder (a submission must not be able to
   overwrite another's files) and starts a fresh ``python3`` kernel there, with the same
   Python as the grader;
2. runs every code cell top to bottom, as Run All would, going on past cells that raise.
   A cell that does not finish within the cell timeout is interrupted (as the learner
   would press the stop button) and the run goes on with the next cell; a cell that
   ignores the interrupt or kills the kernel is skipped: the kernel is restarted and the
   cells before it are run again;
3. runs each check of each exercise of the notebook's own lessons that it defined (see
   :meth:`Worker.notebook_lessons`) in a cell of its own, *inside
   that kernel*, with the same limits; a check that kills the kernel or ignores the
   interrupt costs that check, and the kernel is rebuilt for the next one;
4. at the end, or when stopped (SIGTERM, SIGHUP, or its grader dying, on Linux), kills
   the kernel and every process below it, even those the notebook's code moved to a
   session of their own (on Linux this process is their child subreaper).

Everything it learns goes into a JSON state file, rewritten after every step, so the
grader can report what was done even if it has to kill this process.  Learner output is
never kept (a notebook that prints forever cannot fill memory), and the kernel's own
stdout/stderr go nowhere.

Usage (by the grader only): ``python -m tcplessons.grading_worker JOB.json``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from queue import Empty
from typing import Any, Dict, List, Optional

__all__ = ["main"]

# nbformat's validator imports jsonschema, which imports an optional IRI syntax checker
# that takes most of a second to build its grammar.  Grading never checks IRIs, and
# jsonschema copes with the module missing; every notebook graded saves that second.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]

#: Seconds the grader's own first hidden cell may take (it imports the checks), however
#: short the cell timeout: on a busy machine that import alone can take a few seconds.
HELPER_TIMEOUT = 20.0
#: Seconds a kernel gets to answer after an interrupt before it is restarted instead.
INTERRUPT_GRACE = 2.0
#: How many times one notebook's kernel may be rebuilt before the rest is given up.
MAX_RESTARTS = 4
#: A cell that only calls ``check("name", name)`` runs the same checks the grader runs
#: afterwards; skipping it halves the time a slow wrong answer costs.
CHECK_CELL = re.compile(
    r"""^\s*(?:tcplessons\s*\.\s*)?check\(\s*(['"])(?P<id>\w+)\1\s*,\s*(?P<obj>\w+)\s*\)\s*;?\s*$"""
)
#: Seconds to wait for a killed process to go away while tidying up.
REAP_WAIT = 1.0
#: Folders and files of a submission's folder that its temporary copy leaves out.
COPY_IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", ".git", "*.ipynb")
#: Biggest folder (bytes) copied next to a notebook; a larger one gets only the notebook.
COPY_LIMIT = 50 * 1024 * 1024


class Stop(Exception):
    """Grading of this notebook stops here; ``str(exc)`` says why, for every unchecked check."""


class OutOfTime(Stop):
    """The notebook's whole time budget is spent."""


class GiveUp(Stop):
    """The kernel had to be rebuilt too many times, or the notebook cannot be checked."""


def cell_label(index: int, source: str) -> str:
    """``cell 4 ("while True:")``: the 1-based position among all cells, and its first line."""
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    if len(first) > 40:
        first = first[:39] + "…"
    return f'cell {index + 1} ("{first}")' if first else f"cell {index + 1}"


def _seconds(value: float) -> str:
    """``2 s``, ``1.5 s``: a time limit as a learner reads it (no 1.99146 s)."""
    return f"{round(float(value), 1):g} s"


def lesson_number(lesson: str) -> str:
    """``"02"`` for ``"02-phone-call-stream"``: how the course names a lesson in messages."""
    return lesson.split("-", 1)[0] if lesson else "?"


# -- processes the notebook leaves behind (Linux) --------------------------------------
def _prctl(option: int, value: int) -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def descendants(root: int) -> List[int]:
    """Every process below ``root`` (Linux ``/proc``; empty elsewhere), deepest last."""
    parents: Dict[int, int] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode("ascii", "replace")
            # "pid (name) state ppid ...": the name may hold spaces and brackets.  Zombies
            # stay in: a dead kernel's children are still listed under it for a moment.
            fields = stat[stat.rindex(")") + 2 :].split()
            parents[int(entry)] = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
    found: List[int] = []
    frontier = [root]
    while frontier and len(found) < 10000:
        frontier = [pid for pid, ppid in parents.items() if ppid in frontier and pid not in found]
        found += frontier
    return found


def kill_descendants(rounds: int = 5) -> None:
    """SIGKILL every process below this one, including those that left our process group.

    This process is a child subreaper (see :func:`main`), so orphans that called
    ``setsid()`` are still found below it.  A few rounds catch processes forked meanwhile.
    """
    me = os.getpid()
    for _ in range(rounds):
        pids = descendants(me)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        _reap(REAP_WAIT / rounds)


def _reap(seconds: float) -> None:
    """Collect exited children (we are their subreaper) for up to ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.02)


def _folder_size(folder: Path, limit: int) -> int:
    total = 0
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in (".ipynb_checkpoints", "__pycache__", ".git")]
        for name in files:
            if not name.endswith(".ipynb"):
                try:
                    total += os.path.getsize(os.path.join(root, name))
                except OSError:
                    pass
            if total > limit:
                return total
    return total


class Worker:
    """Runs one notebook and its checks; see the module docstring."""

    def __init__(self, job: Dict[str, Any]):
        self.job = job
        self.state_path = Path(job["state"])
        spent = max(0.0, time.time() - float(job.get("started", time.time())))  # starting this process
        self.deadline = time.monotonic() + float(job["timeout"]) - spent
        self.cell_timeout = float(job["cell_timeout"])
        self.catalogue: Dict[str, List[str]] = {e["id"]: e["checks"] for e in job["exercises"]}
        self.lessons_of: Dict[str, str] = {e["id"]: e.get("lesson", "") for e in job["exercises"]}
        self.state: Dict[str, Any] = {
            "done": False,
            "phase": "starting",
            "current": "",
            "kernel_pids": [],
            "notes": [],
            "results": {},  # exercise id -> {"attempted", "names" (of its checks), "checks" so far}
            "defined": None,  # exercise ids the kernel holds a definition of, once known
            "error": "",
        }
        self.skip: Dict[int, str] = {}  # cell index -> why it is skipped after a restart
        self.errors: Dict[int, str] = {}  # cell index -> "NameError: ..." of the last run
        self.ran: set = set()
        self.restarts = 0
        self.km = None
        self.kc = None
        self.client = None
        self.nb = None
        self.workdir: Optional[Path] = None
        self.current_limit = self.cell_timeout
        self.hidden = False

    # -- state ---------------------------------------------------------------------
    def save(self) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state))
        os.replace(tmp, self.state_path)

    def note(self, text: str) -> None:
        if text not in self.state["notes"]:
            self.state["notes"].append(text)
            self.save()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def limit(self, at_least: float = 0.0) -> float:
        """Seconds the next cell may take: the cell timeout, within what is left."""
        left = self.remaining()
        if left <= 0.05:
            raise OutOfTime()
        return min(max(self.cell_timeout, at_least), left)

    # -- the notebook --------------------------------------------------------------
    def read(self) -> bool:
        import nbformat

        path = Path(self.job["notebook"])
        try:
            with open(path, encoding="utf-8") as f:
                nb = nbformat.read(f, as_version=4)
        except Exception as exc:  # bad JSON, not a notebook, unreadable file
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if path.suffix != ".ipynb":
                reason = f"{path.name} is not a notebook (.ipynb): {reason}"
            self.state["error"] = f"could not read the notebook: {reason[:200]}"
            return False
        self.nb = nb
        self.code_cells = [
            i for i, c in enumerate(nb.cells) if c.get("cell_type") == "code" and str(c.get("source", "")).strip()
        ]
        checks: Dict[str, List[int]] = {}
        aliases: Dict[str, str] = {}
        for i in self.code_cells:
            match = CHECK_CELL.match(nb.cells[i].source)
            if match:
                self.skip[i] = ""  # silently: the grader runs those checks itself
                checks.setdefault(match["id"], []).append(i)
                if match["obj"] != match["id"] and match["id"] in self.catalogue:
                    aliases[match["id"]] = match["obj"]
        # Saved now, so the grader can explain a missing exercise even if it kills us.
        self.state["definitions"] = {e: self.source_defines(e) for e in self.catalogue}
        self.state["check_cells"] = {e: cells for e, cells in checks.items() if e in self.catalogue}
        self.state["aliases"] = aliases
        self.state["lessons"] = self.notebook_lessons(checks, aliases)
        self.state["labels"] = {str(i): cell_label(i, nb.cells[i].source) for i in self.code_cells}
        self.save()
        return True

    def notebook_lessons(self, checks: Dict[str, List[int]], aliases: Dict[str, str]) -> Optional[List[str]]:
        """The lessons this notebook is, from the cells the course put in it.

        First the exercises its check cells name (``check("recv_message", recv_message)``);
        if it has none, the exercises its ``exercise``-tagged cells define.  A helper that
        happens to share another lesson's exercise name (lesson 04 invites a
        ``recv_exactly``, often written in the exercise cell itself) is then not graded as
        that lesson's exercise.  ``None`` when neither names a known exercise (tags and
        check cells gone): then every exercise the notebook defines is graded.
        """
        lessons = {self.lessons_of[e] for e in checks if e in self.lessons_of}
        if not lessons:
            tagged = {
                i for i in self.code_cells if "exercise" in (self.nb.cells[i].get("metadata", {}).get("tags") or [])
            }
            for exercise_id, lesson in self.lessons_of.items():
                if set(self.state["definitions"].get(exercise_id, [])) & tagged:
                    lessons.add(lesson)
        return sorted(lessons) if lessons else None

    def copy_folder(self) -> Path:
        """Copy the notebook's folder (without other notebooks) to a scratch folder.

        The scratch folder lies inside the grader's own temporary folder, so it is
        removed at the end even if this process is killed.
        """
        source = Path(self.job["notebook"]).resolve()
        scratch = Path(self.job.get("scratch") or tempfile.mkdtemp(prefix="tcplessons-grade-"))
        target = scratch / "submission"
        try:
            if _folder_size(source.parent, COPY_LIMIT) > COPY_LIMIT:
                raise OSError("the notebook's folder is too big to copy")
            shutil.copytree(source.parent, target, ignore=COPY_IGNORE, symlinks=True)
        except (OSError, shutil.Error) as exc:
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            reason = exc.args[0] if exc.args and isinstance(exc.args[0], str) else "some files could not be copied"
            self.note(f"{reason}; the notebook ran alone in an empty folder")
        shutil.copy2(source, target / source.name)
        self.workdir = target
        return target

    # -- the kernel ----------------------------------------------------------------
    async def start_kernel(self) -> None:
        from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
        from jupyter_client.manager import AsyncKernelManager
        from nbclient import NotebookClient

        class CurrentPython(KernelSpecManager):
            """The ``python3`` kernel of the grader's own Python, whatever is installed."""

            def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
                return KernelSpec(
                    argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    display_name="Python 3 (ipykernel)",
                    language="python",
                )

        class QuietClient(NotebookClient):
            """Keeps no learner output at all, so a flood of prints cannot fill memory."""

            def output(self, outs, msg, display_id, cell_index):
                return None

            def handle_comm_msg(self, outs, msg, cell_index):
                return None

        env = dict(os.environ)
        env.pop("JPY_PARENT_PID", None)
        env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        env.setdefault("MPLBACKEND", "Agg")
        km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=CurrentPython())
        self.km = km
        with open(os.devnull, "wb") as nowhere:
            await km.start_kernel(
                # IPython's history database is shared by every kernel of this user;
                # parallel graders would fight over it, and nobody reads it.
                extra_arguments=["--HistoryManager.hist_file=:memory:"],
                cwd=str(self.workdir),
                env=env,
                stdin=None,
                stdout=nowhere,
                stderr=nowhere,
            )
        pid = getattr(km.provisioner, "pid", None)
        if pid:
            self.state["kernel_pids"].append(pid)
            self.save()
        kc = km.client()
        kc.start_channels()
        self.kc = kc
        try:
            await kc.wait_for_ready(timeout=max(1.0, min(60.0, self.remaining())))
        except RuntimeError as exc:
            if self.remaining() <= 0.05:
                raise OutOfTime() from None
            raise RuntimeError(f"the kernel did not start: {exc}") from None
        kc.allow_stdin = False
        quiet = logging.getLogger("tcplessons.grading_worker.nbclient")
        quiet.addHandler(logging.NullHandler())
        quiet.propagate = False
        client = QuietClient(
            self.nb,
            km=km,
            allow_errors=True,
            iopub_timeout=1,
            store_widget_state=False,
            log=quiet,
            record_timing=False,
        )
        client.kc = kc
        client.timeout_func = lambda cell: self.current_limit
        client.on_cell_error = self._on_cell_error
        self.client = client

    def _on_cell_error(self, cell, cell_index, execute_reply) -> None:
        if self.hidden:
            return
        content = execute_reply.get("content", {})
        text = f"{content.get('ename', 'error')}: {content.get('evalue', '')}".strip().rstrip(":")
        self.errors[cell_index] = text.splitlines()[0][:200] if text else "error"

    async def stop_kernel(self) -> None:
        km, kc = self.km, self.kc
        self.km = self.kc = self.client = None
        if km is None:
            return
        pid = getattr(km.provisioner, "pid", None)
        if pid and hasattr(os, "killpg"):
            try:  # the kernel leads its own process group: take its children with it
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            if kc is not None:
                kc.stop_channels()
            await km.shutdown_kernel(now=True)
        except Exception:
            pass
        try:
            await km.cleanup_resources()
        except Exception:
            pass

    async def restart(self, why: str) -> None:
        await self.stop_kernel()
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            raise GiveUp(f"the kernel had to be restarted too often (last: {why})")
        self.errors.clear()
        self.ran.clear()
        await self.start_kernel()

    async def alive(self) -> bool:
        try:
            return bool(await self.km.is_alive())
        except Exception:
            return False

    async def recovers(self) -> bool:
        """After a timeout: interrupt, then wait briefly for the kernel to answer again."""
        if not await self.alive():
            return False
        try:
            await self.km.interrupt_kernel()
        except Exception:
            return False
        msg_id = self.kc.execute("", silent=True, store_history=False, stop_on_error=False)
        end = time.monotonic() + INTERRUPT_GRACE
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return False
            try:
                msg = await self.kc.get_shell_msg(timeout=left)
            except Empty:
                return False
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return True

    async def execute(self, index: int, source: Optional[str] = None, at_least: float = 0.0) -> str:
        """Run cell ``index`` (or ``source`` as a hidden cell); say how it ended.

        Returns "ok" (finished, maybe with an error), "interrupted" (timed out, then
        stopped by an interrupt), "stuck" (ignored the interrupt) or "dead" (the kernel died).
        """
        from nbclient.exceptions import CellTimeoutError, DeadKernelError
        from nbformat.v4 import new_code_cell

        self.current_limit = self.limit(at_least)  # raises OutOfTime when the budget is spent
        hidden = source is not None
        if hidden:  # nbclient stores the cell back at its index: give it a slot of its own
            cell = new_code_cell(source)
            self.nb.cells.append(cell)
            index = len(self.nb.cells) - 1
        else:
            cell = self.nb.cells[index]
        self.hidden = hidden
        try:
            await self.client.async_execute_cell(cell, index, store_history=not hidden)
        except CellTimeoutError:
            return "interrupted" if await self.recovers() else ("stuck" if await self.alive() else "dead")
        except DeadKernelError:
            return "dead"
        except asyncio.CancelledError:
            return "dead"
        finally:
            cell.outputs = []
            if hidden:
                self.nb.cells.pop()
        return "ok"

    # -- running the learner's cells -----------------------------------------------
    async def run_cells(self) -> None:
        """Run every code cell (but the skipped ones) in order in the current kernel."""
        position = 0
        while position < len(self.code_cells):
            index = self.code_cells[position]
            position += 1
            if index in self.skip or index in self.ran:
                continue
            label = cell_label(index, self.nb.cells[index].source)
            self.state.update(phase="running", current=label)
            self.save()
            how = await self.execute(index)
            self.ran.add(index)
            limit = _seconds(self.current_limit)
            if how == "interrupted":
                self.note(f"{label} did not finish within {limit}; it was interrupted and the run went on")
                self.skip[index] = f"did not finish within {limit} and was interrupted"
            elif how in ("stuck", "dead"):
                if how == "stuck":
                    why = f"{label} did not finish within {limit} and did not stop when interrupted"
                    self.skip[index] = f"did not finish within {limit} and did not stop when interrupted"
                else:
                    why = f"the kernel died while running {label} (os._exit()? exit()?)"
                    self.skip[index] = "killed the kernel (os._exit()? exit()?)"
                self.note(f"{why}; that cell was skipped and the cells before it were run again")
                await self.restart(why)
                position = 0  # a fresh kernel: run the cells before this one again

    # -- the checks ----------------------------------------------------------------
    def kernel_call(self, function: str, *args: Any) -> str:
        """One hidden cell calling a helper of :mod:`tcplessons.grading` in the kernel."""
        return f"__import__('tcplessons.grading', fromlist=['_']).{function}({', '.join(repr(a) for a in args)})"

    def answer_path(self) -> Path:
        return self.state_path.with_name(self.state_path.stem + "-answer.json")

    async def ask_kernel(self, function: str, *args: Any, at_least: float = 0.0) -> tuple:
        """Run a hidden helper cell; return (how it ended, its JSON answer or None)."""
        answer = self.answer_path()
        answer.unlink(missing_ok=True)
        how = await self.execute(-1, self.kernel_call(function, str(answer), *args), at_least=at_least)
        try:
            return how, json.loads(answer.read_text())
        except (OSError, ValueError):
            return how, None

    async def inventory(self) -> Dict[str, List[str]]:
        """Which exercises the notebook defined, and their checks as the kernel sees them."""
        self.state.update(phase="checking", current="")
        how, answer = await self.ask_kernel(
            "_kernel_inventory",
            self.job.get("checks_dir") or "",
            self.job["package_dir"],
            self.state.get("aliases") or {},
            at_least=HELPER_TIMEOUT,  # only the grader's code runs here (imports, no learner code)
        )
        if how == "ok" and answer is None:
            raise GiveUp(
                "the grader's checking code could not run in this notebook's kernel"
                " (does the notebook's folder hold a module named tcplessons?)"
            )
        if how != "ok":
            raise GiveUp(
                f"the grader's checking code did not finish within {_seconds(self.current_limit)}"
                " in this notebook's kernel"
                if how in ("interrupted", "stuck")
                else "the kernel died while the grader was looking for the exercises"
            )
        if answer.get("error"):
            raise GiveUp(answer["error"])
        for exercise_id, obj in (answer.get("aliased") or {}).items():
            self.note(
                f"{exercise_id} is not defined, but its check cell passes {obj}: {obj} was graded as {exercise_id}"
                f" (name the function {exercise_id}, as the exercise asks)"
            )
        return answer["defined"]

    def source_defines(self, name: str) -> List[int]:
        """Cells whose source defines ``name`` (def, class, or assignment) — a rough look."""
        word = re.escape(name)
        pattern = re.compile(rf"^\s*(?:async\s+def|def|class)\s+{word}\b|^\s*{word}\s*=[^=]", re.M)
        return [i for i in self.code_cells if pattern.search(self.nb.cells[i].source)]

    async def check_all(self) -> None:
        defined = await self.inventory()
        self.state["defined"] = sorted(defined)
        self.save()
        lessons = self.state.get("lessons")
        for exercise_id, names in self.catalogue.items():
            if exercise_id not in defined:
                continue
            if lessons is not None and self.lessons_of.get(exercise_id) not in lessons:
                continue  # another lesson's exercise name, used for a helper: not graded here
            names = defined[exercise_id]
            results: List[Dict[str, Any]] = []
            self.state["results"][exercise_id] = {"attempted": True, "names": names, "checks": results}
            for number, name in enumerate(names):
                self.state.update(current=f'the check "{name}" of {exercise_id}')
                self.save()
                results.append(await self.check_one(exercise_id, number, name))
                self.save()

    async def check_one(self, exercise_id: str, number: int, name: str) -> Dict[str, Any]:
        how, answer = await self.ask_kernel("_kernel_check", self.job.get("checks_dir") or "", exercise_id, number)
        if how == "ok" and answer is not None:
            return answer
        limit = _seconds(self.current_limit)
        if how == "interrupted":
            message = (
                f"this check did not finish within {limit}; it was stopped\n"
                "hint: your code probably waits forever (in accept(), recv() or a loop)"
                " for something that never comes"
            )
        elif how == "stuck":
            message = f"this check did not finish within {limit}, and your code did not stop when interrupted"
        elif how == "dead":
            message = "the kernel died while running this check (does your code call os._exit() or exit()?)"
        else:
            message = "this check could not report its result"
        if how in ("stuck", "dead"):
            await self.restart(message)
            await self.run_cells()
            defined = await self.inventory()
            if exercise_id not in defined:
                raise GiveUp(f"{exercise_id} was no longer defined once the kernel was restarted and the cells rerun")
        return {"name": name, "passed": False, "message": message}

    # -- the whole job -------------------------------------------------------------
    async def run(self) -> None:
        if not self.read():
            return
        self.copy_folder()
        try:
            await self.start_kernel()
            await self.run_cells()
            self.state.update(phase="checking", current="")
            await self.check_all()
        except OutOfTime:
            where = self.state.get("current") or "the run"
            self.note(f"the time for this notebook ({_seconds(self.job['timeout'])}) ran out while running {where}")
            self.state["stopped"] = f"the time for this notebook ({_seconds(self.job['timeout'])}) ran out"
        except Stop as exc:
            self.note(f"grading stopped: {exc}")
            self.state["stopped"] = str(exc)
        finally:
            kill_descendants()  # the kernel and all it started, even outside its group (setsid)
            await self.stop_kernel()
            kill_descendants()
            self.state["errors"] = {str(k): v for k, v in self.errors.items()}
            self.state["skipped"] = {str(k): v for k, v in self.skip.items() if v}
            if self.workdir is not None:
                shutil.rmtree(self.workdir, ignore_errors=True)


def _stay_in_charge(worker: Worker) -> None:
    """Leave nothing running behind: if the grader dies or stops us, take our processes along.

    On Linux this process becomes a child subreaper (orphans of the notebook's code are
    re-parented to it, not to init, so :func:`kill_descendants` finds them) and asks for
    SIGTERM when its parent, the grader, dies.  SIGTERM and SIGHUP then kill the kernel
    and every process below this one, remove the scratch folder and exit.
    """
    parent = os.getppid()

    def stop(signum, frame):
        kill_descendants()  # first, while the tree is whole
        for pid in worker.state.get("kernel_pids", [])[-1:]:  # the earlier ones were stopped already
            try:
                os.killpg(pid, signal.SIGKILL)
            except (OSError, AttributeError):
                pass
        kill_descendants()
        if worker.workdir is not None:
            shutil.rmtree(worker.workdir, ignore_errors=True)
        folder = worker.state_path.parent
        if os.getppid() != parent and folder.name.startswith("tcplessons-grading-"):
            # the grader is gone: nobody else will remove its temporary folder
            shutil.rmtree(folder, ignore_errors=True)
        # End as killed by that signal, so the grader reports "killed (signal 15)".
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        os._exit(128 + signum)

    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, stop)
    signal.signal(signal.SIGTERM, stop)
    if sys.platform.startswith("linux"):
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the grader died before we asked to be told
        stop(signal.SIGTERM, None)


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    job = json.loads(Path(argv[0]).read_text())
    worker = Worker(job)
    _stay_in_charge(worker)
    try:
        asyncio.run(worker.run())
    except BaseException as exc:
        worker.state["fault"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        worker.state["done"] = True
        worker.save()
        raise
    worker.state["done"] = True
    worker.state["phase"] = "done"
    worker.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
