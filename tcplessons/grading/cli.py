"""The command line: ``python -m tcplessons grade ...`` and ``gradebook merge ...``.

Run ``python -m tcplessons grade --help`` for the options.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from .helptext import GRADE_EXAMPLES, GRADE_HELP, MERGE_HELP

__all__ = ["build_parser", "main"]


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


def _add_grade(commands) -> None:
    from . import DEFAULT_CELL_TIMEOUT, DEFAULT_TIMEOUT

    grade = commands.add_parser(
        "grade",
        help="run and check learners' notebooks; print a table, JSON or a CSV gradebook",
        description=GRADE_HELP,
        epilog=GRADE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = grade.add_argument
    add(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a notebook, or a folder of notebooks (its *.ipynb, sorted)",
    )
    add(
        "--json", action="store_true", help="print the results as JSON on stdout instead of a table"
    )
    add(
        "--csv",
        metavar="FILE",
        help="also write a gradebook: a row per notebook, a column per exercise, total",
    )
    add(
        "--jobs",
        "-j",
        type=_jobs,
        default=1,
        metavar="N",
        help="grade N notebooks at once (default 1)",
    )
    add(
        "--timeout",
        type=_positive,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"time for one whole notebook, cells and checks (default {DEFAULT_TIMEOUT:g})",
    )
    add(
        "--cell-timeout",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help=f"time for one cell or one check (default: {DEFAULT_CELL_TIMEOUT:g}, at most a quarter of --timeout)",
    )
    add(
        "--checks",
        metavar="DIR",
        help="a folder of .py files with your own checks: each registers a new Exercise, or adds checks to "
        "a course exercise with get_exercise(id).check(name)",
    )
    add(
        "--all-exercises",
        action="store_true",
        help="a column for every exercise the grader knows in the table and CSV (default: only those attempted)",
    )
    add(
        "--sandbox",
        choices=["auto", "require", "off"],
        default="auto",
        help="run each notebook in a bubblewrap sandbox: auto (if bwrap works here), require, off",
    )
    add(
        "--shard",
        metavar="K/N",
        help="grade only the K-th of N slices of the notebooks; prints its JSON part",
    )
    add(
        "--output",
        metavar="FILE",
        help="write the JSON (--json or --shard) to FILE instead of stdout",
    )
    add("--quiet", "-q", action="store_true", help="no progress on stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tcplessons",
        description="tcplessons: a hands-on TCP course in JupyterLab.  Instructor tools.",
        epilog="Run 'python -m tcplessons grade --help' to grade a class's notebooks.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    _add_grade(commands)
    book = commands.add_parser(
        "gradebook", help="gradebook tools: merge the JSON parts of a sharded run"
    )
    actions = book.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    merge = actions.add_parser(
        "merge", help="join shards' JSON parts into one CSV gradebook", description=MERGE_HELP
    )
    merge.add_argument("parts", nargs="+", metavar="PART.json")
    merge.add_argument(
        "--csv", metavar="FILE", help="write the gradebook to FILE (default: stdout)"
    )
    merge.add_argument("--all-exercises", action="store_true", help="a column for every exercise")
    nc = commands.add_parser(
        "nc", help="join a server from a terminal, like nc -N HOST PORT (for systems without nc)"
    )
    nc.add_argument("host")
    nc.add_argument("port", type=int)
    return parser


def _fail(message: str, status: int = 2, command: str = "grade") -> int:
    print(f"tcplessons {command}: {message}", file=sys.stderr)
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


def _check_csv(path: str) -> str | None:
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


def _checks_warning(folder: str | None) -> None:
    if (
        folder
        and os.path.isdir(folder)
        and not any(name.endswith(".py") for name in os.listdir(folder))
    ):
        print(
            f"tcplessons grade: warning: {folder} holds no .py files: no private checks added",
            file=sys.stderr,
        )


def _write_report(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
        return
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`: the reader has what it wanted
        sys.stdout = None  # type: ignore[assignment]  # no second error at exit


def grade_command(args: argparse.Namespace) -> int:
    from .. import grading
    from .submissions import parse_shard

    if args.cell_timeout is not None and args.cell_timeout > args.timeout:
        return _fail(
            f"--cell-timeout ({args.cell_timeout:g}) cannot be longer than --timeout ({args.timeout:g})"
        )
    _stop_on_signals()
    try:
        shard_of = parse_shard(args.shard) if args.shard else None
        notebooks = grading.find_notebooks(args.paths)
        total = len(grading.shard(notebooks, *shard_of)) if shard_of else len(notebooks)
        for path in (args.csv, args.output):
            reason = _check_csv(path) if path else None  # a bad path fails now, not after grading
            if reason:
                return _fail(reason)
        _checks_warning(args.checks)
        submissions = grading.grade(
            args.paths,
            jobs=args.jobs,
            timeout=args.timeout,
            cell_timeout=args.cell_timeout,
            checks_dir=args.checks,
            progress=grading.Progress(total, enabled=not args.quiet),
            sandbox=args.sandbox,
            shard_of=shard_of,
            hide=[p for p in (args.csv, args.output) if p],
        )
    except (grading.GradingError, grading.SandboxUnavailable) as exc:
        return _fail(str(exc))
    except Stopped as exc:
        name = signal.Signals(exc.signum).name
        return _fail(
            f"stopped by {name}; the notebooks being graded were stopped", 128 + exc.signum
        )
    except KeyboardInterrupt:
        return _fail("interrupted; the notebooks being graded were stopped", 130)
    if shard_of:
        from ..exercises import all_exercises  # the private checks too: grade() loaded them

        lessons_of = {ex.id: ex.lesson for ex in all_exercises()}
        extra = {"shard": {"index": shard_of[0], "count": shard_of[1]}, "lessons_of": lessons_of}
        _write_report(grading.to_json(submissions, extra) + "\n", args.output)
    elif args.json:
        _write_report(grading.to_json(submissions) + "\n", args.output)
    else:
        _write_report(grading.format_table(submissions, args.all_exercises), None)
    if args.csv:  # after the report: a full disk must not throw the results away
        try:
            grading.write_csv(submissions, args.csv, every_exercise=args.all_exercises)
        except OSError as exc:
            return _fail(f"could not write the gradebook to {args.csv}: {exc.strerror or exc}", 1)
    faults = [s for s in submissions if s.fault]
    if faults:
        first = faults[0]
        return _fail(
            f"the grader failed on {len(faults)} notebook(s), first {first.notebook}: {first.fault}",
            1,
        )
    return 0


def merge_command(args: argparse.Namespace) -> int:
    from .reports import MergeError, merge_parts, write_csv

    try:
        submissions = merge_parts(args.parts)
    except MergeError as exc:
        return _fail(str(exc), command="gradebook merge")
    if args.csv:
        try:
            write_csv(submissions, args.csv, every_exercise=args.all_exercises)
        except OSError as exc:
            return _fail(f"could not write {args.csv}: {exc.strerror or exc}", 1, "gradebook merge")
    else:
        write_csv(submissions, sys.stdout, every_exercise=args.all_exercises)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "grade":
        return grade_command(args)
    if args.command == "gradebook":
        return merge_command(args)
    if args.command == "nc":
        from ..nc import main as nc_main

        return nc_main(args.host, args.port)
    parser.print_help()
    return 2
