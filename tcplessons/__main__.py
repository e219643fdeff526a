"""The ``tcplessons`` command: ``python -m tcplessons grade ...`` for instructors.

Run ``python -m tcplessons grade --help`` for the options.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import List, Optional

__all__ = ["main"]

GRADE_HELP = """\
Run each notebook top to bottom in a fresh kernel (as Run All would, going on past cells
that raise), then check the exercises of its own lessons (see "What counts" below),
inside that kernel, with the course's checks (plus yours with --checks).  Exercises it
does not define are reported as not attempted.  Each notebook runs in a temporary copy
of its folder, in a process of its own: an endless loop, a blocked accept(), sys.exit()
or os._exit() costs that notebook the marks it affects, never the run.

A cell or a single check that runs longer than --cell-timeout is interrupted; one that
ignores the interrupt or kills the kernel is skipped and the kernel is rebuilt.  The
whole notebook (cells and checks) gets --timeout seconds, then its process is killed.
Cells that only call check("name", name) are skipped: the grader runs those checks.

What counts: a notebook's own lessons.  Those are the lessons of the exercises its
check cells name (check("recv_message", recv_message)), or, without check cells, of the
exercises its cells tagged "exercise" define.  Every exercise of those lessons is graded
and counted in the notebook's total, attempted or not; another lesson's exercise that it
happens to define (a helper recv_exactly in lesson 04) is reported as "defined, but
lesson 02's exercise: not graded in this notebook".  A notebook with neither (tags and
check cells removed) is graded on every exercise it defines.  If an exercise's name is
not defined but its check cell passes another name (check("open_doorbell",
open_door_bell)), that object is graded, with a note.

The table and the CSV have a column for each exercise of the notebooks' lessons or
attempted (every exercise with --all-exercises); a blank cell is not one of that
notebook's lessons.  The CSV's last columns are total, out_of and notes (what happened
while running).  Folders are searched with their subfolders (one per learner is fine);
a notebook named twice is graded once.  A notebook that cannot be read is a row marked
NOT GRADED.

Exit status: 0 when grading completed, whatever the scores (unreadable notebooks
included: their rows say NOT GRADED); 2 for bad arguments; 1 if the grader itself failed
on a notebook (its row says why) or the gradebook could not be written (the report is
printed first); 130 (143 for SIGTERM, 129 for SIGHUP) if stopped: the notebooks being
graded are stopped and the temporary files removed.
"""

GRADE_EXAMPLES = """\
examples:
  python -m tcplessons grade submissions/                      # a table of scores
  python -m tcplessons grade submissions/ --csv grades.csv --jobs 4
  python -m tcplessons grade alice.ipynb --json > alice.json
  python -m tcplessons grade submissions/ --checks private_checks/

--json prints {"submissions": [{"notebook", "exercises": [{"id", "attempted", "passed",
"score", "max_score", "checks": [{"name", "passed", "message"}]}], "notes", "fault",
"lessons", "unreadable"}]}; the score is the number of checks passed, max_score the
number of checks; notes (a list) say what happened while running the notebook, fault is
null unless the grader itself failed on it, lessons are those its total counts.
"""


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text!r}")
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from .grading import DEFAULT_CELL_TIMEOUT, DEFAULT_TIMEOUT

    parser = argparse.ArgumentParser(
        prog="python -m tcplessons",
        description="tcplessons: a hands-on TCP course in JupyterLab.  Instructor tools.",
        epilog="Run 'python -m tcplessons grade --help' to grade a class's notebooks.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    grade = commands.add_parser(
        "grade",
        help="run and check learners' notebooks; print a table, JSON or a CSV gradebook",
        description=GRADE_HELP,
        epilog=GRADE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    grade.add_argument(
        "paths", nargs="+", metavar="PATH", help="a notebook, or a folder of notebooks (its *.ipynb, sorted)"
    )
    grade.add_argument("--json", action="store_true", help="print the results as JSON on stdout instead of a table")
    grade.add_argument(
        "--csv", metavar="FILE", help="also write a gradebook: a row per notebook, a column per exercise, total"
    )
    grade.add_argument("--jobs", "-j", type=_jobs, default=1, metavar="N", help="grade N notebooks at once (default 1)")
    grade.add_argument(
        "--timeout",
        type=_positive,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"time for one whole notebook, cells and checks (default {DEFAULT_TIMEOUT:g})",
    )
    grade.add_argument(
        "--cell-timeout",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help=f"time for one cell or one check (default: {DEFAULT_CELL_TIMEOUT:g}, at most a quarter of --timeout)",
    )
    grade.add_argument(
        "--checks",
        metavar="DIR",
        help="a folder of .py files with your own checks: each registers a new Exercise, or adds checks to "
        "a course exercise with get_exercise(id).check(name)",
    )
    grade.add_argument(
        "--all-exercises",
        action="store_true",
        help="a column for every exercise the grader knows in the table and CSV (default: only those attempted)",
    )
    grade.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    nc = commands.add_parser(
        "nc", help="join a server from a terminal, like nc -N HOST PORT (for systems without nc)"
    )
    nc.add_argument("host")
    nc.add_argument("port", type=int)
    return parser


def _fail(message: str, status: int = 2) -> int:
    print(f"tcplessons grade: {message}", file=sys.stderr)
    return status


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP: stop like Ctrl-C, so workers, kernels and temporary files go too."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _stop_on_signals() -> None:
    def stop(signum, frame):
        raise Stopped(signum)

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            try:
                signal.signal(getattr(signal, name), stop)
            except ValueError:  # not the main thread (grade_command called from a thread)
                pass


def _check_csv(path: str) -> Optional[str]:
    """Why the gradebook cannot be written to ``path``, or None: try opening it for append."""
    if os.path.isdir(path):
        return f"cannot write the gradebook to {path}: it is a folder"
    existed = os.path.lexists(path) and os.path.exists(path)
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        return f"cannot write the gradebook to {path}: {exc.strerror or exc}"
    if not existed:
        try:
            os.unlink(path)  # written for real once grading is done
        except OSError:
            pass
    return None


def _checks_warning(folder: Optional[str]) -> None:
    if folder and os.path.isdir(folder) and not any(name.endswith(".py") for name in os.listdir(folder)):
        print(f"tcplessons grade: warning: {folder} holds no .py files: no private checks added", file=sys.stderr)


def grade_command(args: argparse.Namespace) -> int:
    from .grading import GradingError, Progress, find_notebooks, format_table, grade, to_json, write_csv

    if args.cell_timeout is not None and args.cell_timeout > args.timeout:
        return _fail(f"--cell-timeout ({args.cell_timeout:g}) cannot be longer than --timeout ({args.timeout:g})")
    _stop_on_signals()
    try:
        total = len(find_notebooks(args.paths))
        if args.csv:  # a bad path fails now, not after grading
            reason = _check_csv(args.csv)
            if reason:
                return _fail(reason)
        _checks_warning(args.checks)
        submissions = grade(
            args.paths,
            jobs=args.jobs,
            timeout=args.timeout,
            cell_timeout=args.cell_timeout,
            checks_dir=args.checks,
            progress=Progress(total, enabled=not args.quiet),
        )
    except GradingError as exc:
        return _fail(str(exc))
    except Stopped as exc:
        name = signal.Signals(exc.signum).name
        return _fail(f"stopped by {name}; the notebooks being graded were stopped", 128 + exc.signum)
    except KeyboardInterrupt:
        return _fail("interrupted; the notebooks being graded were stopped", 130)
    try:
        report = to_json(submissions) + "\n" if args.json else format_table(submissions, args.all_exercises)
        sys.stdout.write(report)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`: the reader has what it wanted
        sys.stdout = None  # type: ignore[assignment]  # no second error at exit
    if args.csv:  # after the report: a full disk must not throw the results away
        try:
            write_csv(submissions, args.csv, every_exercise=args.all_exercises)
        except OSError as exc:
            return _fail(f"could not write the gradebook to {args.csv}: {exc.strerror or exc}", 1)
    faults = [s for s in submissions if s["fault"]]
    if faults:
        first = faults[0]
        return _fail(f"the grader failed on {len(faults)} notebook(s), first {first['notebook']}: {first['fault']}", 1)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "grade":
        return grade_command(args)
    if args.command == "nc":
        from .nc import main as nc_main

        return nc_main(args.host, args.port)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
