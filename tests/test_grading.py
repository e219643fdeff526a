"""The instructor's grader: ``python -m tcplessons grade``, run for real on generated notebooks.

One batch of awkward submissions (correct, wrong, missing, an endless loop, a blocked
accept(), a check that hangs, sys.exit(), os._exit(), an output flood, a thread and a
child process left running, bad JSON, a redefinition, a syntax error) is graded once with
``--json --csv --jobs 2``; most tests read that one result.  A second, small run shows the
table, a notebook too slow for its budget and one that freezes its grader.  Notebooks are
written into ``tmp_path`` at test time, never committed (nbval would collect them).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "tests" / "solutions"

#: Small limits so the whole file runs fast: a cell or check gets CELL s, a notebook BUDGET s
#: (its two processes included: the notebook's kernel and the clean one the checks run in;
#: generous, since on a busy machine starting a kernel alone can take several seconds).
CELL = "1.5"
BUDGET = "30"

PRIVATE_CHECKS = """
from tcplessons.exercises import CheckFailed, Exercise, register

twice = Exercise("zz_twice", lesson="99-grading-test", summary="return the text twice")

@twice.check("doubles a word")
def _(fn):
    got = fn("ab")
    if got != "abab":
        raise CheckFailed("returned the wrong text", sent="'ab'", got=repr(got), expected="'abab'",
                          hint="repeat the text")

@twice.check("doubles the empty string")
def _(fn):
    if fn("") != "":
        raise CheckFailed("the empty string should stay empty")

register(twice)
"""

GOOD = "def zz_twice(text):\n    return text * 2"
WRONG = "def zz_twice(text):\n    return text"


def write_notebook(path: Path, *cells: str) -> Path:
    nb = new_notebook(
        cells=[new_markdown_cell("# A submission")] + [new_code_cell(c) for c in cells]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(path))
    return path


def run_grader(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tcplessons", "grade", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(ROOT),
    )


def process_gone(pid: int, within: float = 5.0) -> bool:
    """Whether process ``pid`` has ended (or is a zombie) within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)  # polling with a deadline, not ordering events
    return False


@pytest.fixture(scope="module")
def checks_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("private_checks")
    (folder / "zz_twice.py").write_text(PRIVATE_CHECKS)
    return folder


@pytest.fixture(scope="module")
def batch(tmp_path_factory, checks_dir):
    """Grade a folder of awkward submissions once: the process result, its JSON, the CSV rows."""
    folder = tmp_path_factory.mktemp("submissions")
    pids = tmp_path_factory.mktemp("pids")
    write_notebook(
        folder / "a_good.ipynb", "import tcplessons", GOOD, 'check("zz_twice", zz_twice)'
    )
    write_notebook(folder / "b_wrong.ipynb", GOOD, WRONG)  # redefined: the last one counts
    write_notebook(folder / "c_not_attempted.ipynb", "x = 1")
    write_notebook(folder / "d_loop.ipynb", "while True:\n    pass", GOOD)
    write_notebook(
        folder / "e_hangs.ipynb",
        "import socket\ndef zz_twice(text):\n    listener = socket.create_server(('127.0.0.1', 0))\n"
        "    listener.accept()  # nobody ever calls",
    )
    write_notebook(
        folder / "f_exits.ipynb",
        "import sys\nsys.exit()",
        GOOD,
        "import os\nos._exit(1)",
        "after = 1",
    )
    write_notebook(
        folder / "h_flood_and_thread.ipynb",
        f"import os, subprocess, threading\nopen({str(pids / 'thread.pid')!r}, 'w').write(str(os.getpid()))\n"
        "threading.Thread(target=threading.Event().wait).start()  # never ends, not a daemon\n"
        f"child = subprocess.Popen(['sleep', '600'])\nopen({str(pids / 'child.pid')!r}, 'w').write(str(child.pid))",
        GOOD,
        "while True:\n    print('x' * 100000)",
    )
    (folder / "j_bad_json.ipynb").write_text('{"cells": [')
    write_notebook(
        folder / "n_accept_before_def.ipynb",
        "import socket\nsocket.create_server(('127.0.0.1', 0)).accept()  # blocks: nobody calls\n"
        + GOOD,
    )
    write_notebook(folder / "o_syntax_error.ipynb", GOOD.replace("return", "retrun"))
    # A notebook whose kernel holds some other tcplessons (say, one in the learner's
    # folder) is not checked with it.
    write_notebook(
        folder / "m_other_tcplessons.ipynb",
        GOOD,
        "import sys, types\nsys.modules['tcplessons'] = types.ModuleType('tcplessons')",
    )
    (folder / ".ipynb_checkpoints").mkdir()
    write_notebook(folder / ".ipynb_checkpoints" / "a_good-checkpoint.ipynb", GOOD)
    gradebook = tmp_path_factory.mktemp("out") / "grades.csv"
    started = time.monotonic()
    result = run_grader(
        str(folder),
        "--json",
        "--csv",
        str(gradebook),
        "--jobs",
        "2",
        "--timeout",
        BUDGET,
        "--cell-timeout",
        CELL,
        "--checks",
        str(checks_dir),
        "--sandbox",
        "off",
        timeout=120,
    )
    elapsed = time.monotonic() - started
    data = json.loads(result.stdout) if result.returncode == 0 else None
    rows = list(csv.DictReader(gradebook.open())) if gradebook.exists() else []
    return {"result": result, "json": data, "csv": rows, "elapsed": elapsed, "pids": pids}


def exercise(batch, notebook: str, exercise_id: str = "zz_twice") -> dict:
    for sub in batch["json"]["submissions"]:
        if Path(sub["notebook"]).name == notebook:
            return next(e for e in sub["exercises"] if e["id"] == exercise_id)
    raise AssertionError(f"{notebook} not in the report")


def test_batch_completes_with_status_0_and_clean_json(batch):
    result = batch["result"]
    assert result.returncode == 0, result.stderr
    assert batch["json"] is not None  # stdout is nothing but the JSON
    names = [Path(s["notebook"]).name for s in batch["json"]["submissions"]]
    assert names == sorted(names) and len(names) == 11  # sorted, checkpoints skipped
    # Bounded, even on busy cores: 11 notebooks, 2 at a time, none past its budget.
    assert batch["elapsed"] < 6 * (float(BUDGET) + 10)


def test_json_has_exactly_the_documented_shape(batch):
    data = batch["json"]
    assert set(data) == {"submissions"}
    for sub in data["submissions"]:
        # The documented shape, plus what happened: notes, fault, lessons, unreadable.
        assert set(sub) == {
            "notebook",
            "exercises",
            "notes",
            "fault",
            "lessons",
            "unreadable",
            "tampered",
            "sandbox",
        }
        assert sub["tampered"] is (Path(sub["notebook"]).name == "m_other_tcplessons.ipynb")
        assert sub["sandbox"] == "off"
        assert isinstance(sub["notebook"], str) and all(isinstance(n, str) for n in sub["notes"])
        assert sub["fault"] is None and isinstance(sub["unreadable"], bool)
        ids = [e["id"] for e in sub["exercises"]]
        assert "zz_twice" in ids and len(ids) == len(set(ids))
        for ex in sub["exercises"]:
            assert set(ex) == {"id", "attempted", "passed", "score", "max_score", "checks"}
            assert isinstance(ex["attempted"], bool) and isinstance(ex["passed"], bool)
            assert ex["max_score"] == len(ex["checks"])
            assert ex["score"] == sum(c["passed"] for c in ex["checks"])
            for check in ex["checks"]:
                assert set(check) == {"name", "passed", "message"}
                assert isinstance(check["name"], str) and isinstance(check["message"], str)


def test_correct_wrong_and_not_attempted(batch):
    good = exercise(batch, "a_good.ipynb")
    assert good["attempted"] and good["passed"] and (good["score"], good["max_score"]) == (2, 2)
    wrong = exercise(batch, "b_wrong.ipynb")
    assert wrong["attempted"] and not wrong["passed"] and wrong["score"] == 1
    failed = [c for c in wrong["checks"] if not c["passed"]]
    assert [c["name"] for c in failed] == ["doubles a word"]
    assert "got: 'ab'" in failed[0]["message"] and "hint: repeat the text" in failed[0]["message"]
    missing = exercise(batch, "c_not_attempted.ipynb")
    assert not missing["attempted"] and not missing["passed"]
    assert (missing["score"], missing["max_score"]) == (0, 2)
    assert [c["message"] for c in missing["checks"]] == ["not attempted", "not attempted"]
    # The course's own exercises are listed for every notebook, not attempted here.
    sub = next(
        s for s in batch["json"]["submissions"] if s["notebook"].endswith("c_not_attempted.ipynb")
    )
    assert all(not e["attempted"] and e["score"] == 0 for e in sub["exercises"])


def test_last_definition_wins(batch):
    redefined = exercise(batch, "b_wrong.ipynb")
    assert redefined["attempted"] and redefined["score"] == 1


def test_endless_loop_at_top_level_is_interrupted_and_the_run_goes_on(batch):
    loop = exercise(batch, "d_loop.ipynb")
    assert loop["passed"], loop  # defined after the loop
    row = next(r for r in batch["csv"] if r["notebook"].endswith("d_loop.ipynb"))
    assert re.search(r'cell 2 \("while True:"\) did not finish within 1.5 s', row["notes"])


def test_why_a_definition_never_happened(batch):
    blocked = exercise(batch, "n_accept_before_def.ipynb")
    assert not blocked["attempted"] and blocked["score"] == 0
    assert blocked["checks"][0]["message"] == (
        'not attempted: cell 2 ("import socket"), where zz_twice is defined,'
        " did not finish within 1.5 s and was interrupted"
    )
    typo = exercise(batch, "o_syntax_error.ipynb")
    assert not typo["attempted"]
    assert typo["checks"][0]["message"].startswith(
        'not attempted: cell 2 ("def zz_twice(text):"), where zz_twice is defined, raised SyntaxError: invalid syntax'
    )


def test_a_check_that_hangs_fails_that_check_only(batch):
    hangs = exercise(batch, "e_hangs.ipynb")
    assert hangs["attempted"] and hangs["score"] == 0
    for check in hangs["checks"]:
        assert "did not finish within 1.5 s" in check["message"]
    assert exercise(batch, "f_exits.ipynb")["passed"]  # graded by the other job meanwhile


def test_sys_exit_and_os_exit_cost_only_their_cell(batch):
    exits = exercise(batch, "f_exits.ipynb")
    assert exits["passed"], exits
    row = next(r for r in batch["csv"] if r["notebook"].endswith("f_exits.ipynb"))
    assert 'the kernel died while running cell 4 ("import os")' in row["notes"]


def test_output_flood_left_over_thread_and_child_process(batch):
    flood = exercise(batch, "h_flood_and_thread.ipynb")
    assert flood["passed"], flood
    pid = int((batch["pids"] / "thread.pid").read_text())
    assert process_gone(pid), "the kernel with a thread left running was not stopped"
    child = int((batch["pids"] / "child.pid").read_text())
    assert process_gone(child), "a process the notebook started outlived its grading"


def test_unreadable_notebook_is_a_row_with_a_message(batch):
    bad = exercise(batch, "j_bad_json.ipynb")
    assert not bad["attempted"] and bad["score"] == 0 and bad["max_score"] == 2
    assert bad["checks"][0]["message"].startswith("not attempted: could not read the notebook")
    sub = next(
        s for s in batch["json"]["submissions"] if s["notebook"].endswith("j_bad_json.ipynb")
    )
    assert sub["unreadable"] and sub["notes"][0].startswith(
        "NOT GRADED: could not read the notebook"
    )


def test_json_says_what_happened(batch):
    subs = {Path(s["notebook"]).name: s for s in batch["json"]["submissions"]}
    assert any("did not finish within 1.5 s" in n for n in subs["d_loop.ipynb"]["notes"])
    assert any("the kernel died while running cell 4" in n for n in subs["f_exits.ipynb"]["notes"])
    assert not subs["d_loop.ipynb"]["unreadable"] and subs["a_good.ipynb"]["lessons"] == [
        "99-grading-test"
    ]


def test_a_kernel_with_another_tcplessons_is_not_trusted(batch):
    shadowed = exercise(batch, "m_other_tcplessons.ipynb")
    assert shadowed["score"] == 0
    assert all(
        "could not run in this notebook's kernel" in c["message"] for c in shadowed["checks"]
    )


def test_csv_gradebook(batch):
    rows = batch["csv"]
    assert len(rows) == 11
    assert list(rows[0])[:2] == ["notebook", "zz_twice"] and list(rows[0])[-3:] == [
        "total",
        "out_of",
        "notes",
    ]
    good = next(r for r in rows if r["notebook"].endswith("a_good.ipynb"))
    assert (good["zz_twice"], good["total"], good["out_of"]) == ("2", "2", "2")
    missing = next(r for r in rows if r["notebook"].endswith("c_not_attempted.ipynb"))
    assert missing["zz_twice"] == "0"


def test_progress_goes_to_stderr_one_line_per_notebook(batch):
    lines = batch["result"].stderr.splitlines()
    done = [line for line in lines if re.match(r"\[\d+/11\] graded ", line)]
    assert len(done) == 11 and done[-1].startswith("[11/11]")
    assert not re.search(r"\[\d+/\d+\] graded", batch["result"].stdout)


def test_table_and_the_time_budget_of_a_notebook(tmp_path, checks_dir):
    write_notebook(tmp_path / "none.ipynb", "x = 1")
    write_notebook(tmp_path / "slow.ipynb", GOOD, *["import time\ntime.sleep(1)"] * 25, WRONG)
    write_notebook(tmp_path / "wrong.ipynb", WRONG)
    # Freezing the grader's worker: only the hard limit (kill the process group) ends it.
    write_notebook(
        tmp_path / "freeze.ipynb", GOOD, "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)"
    )
    result = run_grader(
        str(tmp_path),
        "--jobs",
        "2",
        "--checks",
        str(checks_dir),
        "--timeout",
        "20",
        "--cell-timeout",
        CELL,
        "-q",
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # --quiet
    out = result.stdout
    assert re.match(r"notebook\s+zz_twice\s+total\n", out)
    assert re.search(r"none\.ipynb\s+-\s+0/2$", out, re.M)
    assert re.search(r"wrong\.ipynb\s+1/2\s+1/2$", out, re.M)
    assert "[FAIL] doubles a word" in out and "expected: 'abab'" in out
    # slow.ipynb ran out of time in its sleeps: zz_twice was defined but never checked,
    # and the wrong redefinition at the end never ran.
    assert re.search(r"slow\.ipynb\s+0/2\s+0/2$", out, re.M)
    assert "not checked: the time for this notebook (20 s) ran out" in out
    assert re.search(r"freeze\.ipynb\s+0/2\s+0/2$", out, re.M)
    stopped = (
        'grading this notebook was stopped after 20 s (while running cell 3 ("import os, signal"))'
    )
    assert f"not checked: {stopped}" in out


@pytest.mark.parametrize(
    "args, reason",
    [
        (["/no/such/folder"], "no such file or folder: /no/such/folder"),
        (["EMPTY"], "no notebooks"),
        (["NB", "--jobs", "0"], "must be at least 1"),
        (["NB", "--timeout", "-1"], "must be more than 0"),
        (["NB", "--timeout", "5", "--cell-timeout", "10"], "cannot be longer than --timeout"),
        (["NB", "--checks", "/no/such/checks"], "--checks needs a folder"),
        (["NB", "--checks", "BROKEN"], "failed to load"),
        (["NB", "--csv", "/no/such/dir/grades.csv"], "cannot write the gradebook"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, args, reason):
    (tmp_path / "empty").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "bad.py").write_text("raise RuntimeError('oops')\n")
    nb = write_notebook(tmp_path / "nb.ipynb", "x = 1")
    swap = {"EMPTY": str(tmp_path / "empty"), "NB": str(nb), "BROKEN": str(tmp_path / "broken")}
    result = run_grader(*[swap.get(a, a) for a in args])
    assert result.returncode == 2
    assert reason in result.stderr
    if "--jobs" not in args and "--timeout" not in args:  # argparse adds a usage line
        assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_help_is_useful():
    result = subprocess.run(
        [sys.executable, "-m", "tcplessons", "grade", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    for option in (
        "--json",
        "--csv",
        "--jobs",
        "--timeout",
        "--checks",
        "not attempted",
        "Exit status",
    ):
        assert option in result.stdout
    top = subprocess.run(
        [sys.executable, "-m", "tcplessons", "--help"], capture_output=True, text=True
    )
    assert top.returncode == 0 and "grade" in top.stdout


LESSON_01 = sorted((ROOT / "notebooks").glob("01-*.ipynb"))


@pytest.mark.skipif(not LESSON_01, reason="notebooks/01-doorbell-listener.ipynb does not exist yet")
def test_lesson_01_stub_fails_and_the_reference_solution_passes(tmp_path):
    stub = str(LESSON_01[0].relative_to(ROOT))
    paths = [stub]
    solution = SOLUTIONS / "open_doorbell.py"
    if solution.exists():  # the same notebook with the exercise cell solved
        nb = nbformat.read(str(LESSON_01[0]), as_version=4)
        for cell in nb.cells:
            if "exercise" in cell.get("metadata", {}).get("tags", []):
                cell.source = solution.read_text()
        nbformat.write(nb, str(tmp_path / LESSON_01[0].name))
        paths.append(str(tmp_path / LESSON_01[0].name))
    # An instructor's private check added to a course exercise runs with the others.
    private = tmp_path / "private"
    private.mkdir()
    (private / "extra.py").write_text(
        "from tcplessons.exercises import get_exercise\n"
        "@get_exercise('open_doorbell').check('instructor: returns an object with accept()')\n"
        "def _(fn):\n"
        "    sock = fn()\n"
        "    try:\n"
        "        assert callable(sock.accept)\n"
        "    finally:\n"
        "        sock.close()\n"
    )
    result = run_grader(
        *paths, "--json", "-q", "--jobs", "2", "--timeout", "60", "--checks", str(private)
    )
    assert result.returncode == 0, result.stderr
    subs = json.loads(result.stdout)["submissions"]
    doorbell = next(e for e in subs[0]["exercises"] if e["id"] == "open_doorbell")
    assert subs[0]["notebook"] == stub
    assert doorbell["attempted"] and not doorbell["passed"] and doorbell["score"] == 0
    assert all(c["message"].startswith("not written yet") for c in doorbell["checks"])
    assert doorbell["checks"][-1]["name"] == "instructor: returns an object with accept()"
    if len(subs) == 2:
        solved = next(e for e in subs[1]["exercises"] if e["id"] == "open_doorbell")
        assert solved["passed"], textwrap.indent(json.dumps(solved, indent=1), "  ")
        assert solved["max_score"] == doorbell["max_score"]


def test_progress_bar_on_a_terminal_and_lines_otherwise():
    from tcplessons.grading import Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    checks = [{"name": "a", "passed": True}, {"name": "b", "passed": False}]
    row = {
        "notebook": "class/alice.ipynb",
        "exercises": [{"id": "x", "attempted": True, "checks": checks}],
    }
    tty = Terminal()
    bar = Progress(2, stream=tty)
    bar.start()
    bar.finished(row)
    bar.finished(row)
    assert (
        tty.getvalue().count("\r") == 3
        and "2/2 alice.ipynb" in tty.getvalue()
        and tty.getvalue().endswith("\n")
    )
    plain = io.StringIO()
    lines = Progress(2, stream=plain)
    lines.start()
    lines.finished(row)
    assert plain.getvalue() == "[1/2] graded class/alice.ipynb: 1/2 checks passed\n"


def test_a_grader_fault_is_a_row_and_exit_status_1(tmp_path, monkeypatch, capsys):
    """If the worker itself cannot run, the row says so and the command exits 1."""
    import tcplessons.__main__ as cli
    import tcplessons.grading.supervisor as supervisor

    nb = write_notebook(tmp_path / "nb.ipynb", GOOD)
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'ImportError: the worker is broken' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setattr(supervisor.sys, "executable", str(broken))
    status = cli.main(["grade", str(nb), "--json", "-q", "--sandbox", "off"])
    out, err = capsys.readouterr()
    assert status == 1
    assert err.strip().splitlines() == [
        f"tcplessons grade: the grader failed on 1 notebook(s), first {nb}: ImportError: the worker is broken"
    ]
    (sub,) = json.loads(out)["submissions"]
    for ex in sub["exercises"]:
        assert not ex["attempted"] and ex["score"] == 0
        assert all(c["message"].startswith("not checked: the grader failed") for c in ex["checks"])


def test_rows_when_grading_stopped_half_way():
    """Defined exercises keep the checks that ran; the rest say why they were not checked."""
    from tcplessons.grading import ExerciseInfo, WorkerState, build_submission

    catalogue = [
        ExerciseInfo("first", "", ["a", "b"]),
        ExerciseInfo("second", "", ["c"]),
        ExerciseInfo("third", "", ["d"]),
    ]
    state = {
        "done": True,
        "defined": ["first", "second"],
        "results": {"first": [{"name": "a", "passed": True, "message": ""}]},
        "check_names": {"first": ["a", "b"]},
        "stopped": "the time for this notebook (5 s) ran out",
        "notes": ['the time for this notebook (5 s) ran out while running the check "b" of first'],
        "definitions": {"first": [1], "second": [2], "third": []},
    }
    row = build_submission("nb.ipynb", catalogue, WorkerState.from_dict(state)).to_dict()
    first, second, third = row["exercises"]
    assert (first["attempted"], first["score"], first["max_score"]) == (True, 1, 2)
    assert first["checks"][1]["message"] == "not checked: the time for this notebook (5 s) ran out"
    assert (second["attempted"], second["score"], second["max_score"]) == (True, 0, 1)
    assert second["checks"][0]["message"] == "not checked: the time for this notebook (5 s) ran out"
    assert (third["attempted"], third["checks"][0]["message"]) == (False, "not attempted")
    assert row["notes"] == state["notes"]


def test_ctrl_c_stops_the_workers_and_their_kernels(tmp_path):
    """An instructor's Ctrl-C ends the run at once (status 130), leaving no kernel behind."""
    pids = tmp_path / "pids"
    pids.mkdir()
    for n in range(3):
        write_notebook(
            tmp_path / f"slow{n}.ipynb",
            f"import os, time\nopen({str(pids / f'{n}.pid')!r}, 'w').write(str(os.getpid()))\ntime.sleep(600)",
        )
    # SIGINT may be ignored in a background shell's children: make it raise, as at a terminal.
    code = (
        "import runpy, signal, sys\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        f"sys.argv = ['tcplessons', 'grade', {str(tmp_path)!r}, '--jobs', '2', '--timeout', '60',"
        " '--sandbox', 'off']\n"
        "runpy.run_module('tcplessons', run_name='__main__')\n"
    )
    grader = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=str(ROOT),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(list(pids.glob("*.pid"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # polling with a deadline for both kernels to be running
        kernels = [int(p.read_text()) for p in pids.glob("*.pid")]
        assert len(kernels) == 2, "two notebooks should be running (--jobs 2)"
        grader.send_signal(signal.SIGINT)
        out, err = grader.communicate(timeout=15)
    finally:
        grader.kill()
    assert grader.returncode == 130
    assert (
        err.strip().splitlines()[-1]
        == "tcplessons grade: interrupted; the notebooks being graded were stopped"
    )
    assert out == ""
    assert all(process_gone(pid) for pid in kernels)
    assert not (pids / "2.pid").exists()  # the third notebook never started


def test_all_exercises_gives_every_column():
    from tcplessons.grading import format_table, write_csv

    def ex(ex_id, attempted, score, out_of):
        checks = [{"name": f"c{i}", "passed": i < score, "message": ""} for i in range(out_of)]
        passed = attempted and score == out_of
        return dict(
            id=ex_id,
            attempted=attempted,
            passed=passed,
            score=score,
            max_score=out_of,
            checks=checks,
        )

    row = {"notebook": "a.ipynb", "exercises": [ex("one", True, 1, 1), ex("two", False, 0, 3)]}
    subs = [dict(row, notes=[], fault="")]
    assert format_table(subs).splitlines()[0].split() == ["notebook", "one", "total"]
    assert format_table(subs, every_exercise=True).splitlines()[0].split() == [
        "notebook",
        "one",
        "two",
        "total",
    ]
    plain, every = io.StringIO(), io.StringIO()
    write_csv(subs, plain)
    write_csv(subs, every, every_exercise=True)
    assert plain.getvalue() == "notebook,one,total,out_of,notes\na.ipynb,1,1,1,\n"
    assert every.getvalue() == "notebook,one,two,total,out_of,notes\na.ipynb,1,0,1,4,\n"


# -- a notebook's own lessons, renamed functions, redefinitions ---------------------------
LESSON_CHECKS = (
    PRIVATE_CHECKS
    + """
upper = Exercise("zz_upper", lesson="99-grading-test", summary="return the text in capitals")

@upper.check("shouts")
def _(fn):
    if fn("ab") != "AB":
        raise CheckFailed("not in capitals")

register(upper)

thrice = Exercise("zz_thrice", lesson="98-other-lesson", summary="return the text three times")

@thrice.check("triples a word")
def _(fn):
    if fn("ab") != "ababab":
        raise CheckFailed("not three times")

register(thrice)
"""
)


def tagged_notebook(path: Path, *cells) -> Path:
    """Like :func:`write_notebook`; a cell given as ``(tag, source)`` gets that tag."""
    made = []
    for cell in cells:
        tag, source = cell if isinstance(cell, tuple) else (None, cell)
        made.append(new_code_cell(source, metadata={"tags": [tag]} if tag else {}))
    nb = new_notebook(cells=[new_markdown_cell("# A submission")] + made)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def test_a_notebook_is_graded_on_its_own_lessons(tmp_path):
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "lessons.py").write_text(LESSON_CHECKS)
    folder = tmp_path / "class"
    thrice_helper = "def zz_thrice(text):\n    return text  # a helper, not lesson 98's exercise"
    # Per-learner subfolders are searched; the helper in the exercise cell is not graded.
    tagged_notebook(
        folder / "pia" / "helper.ipynb",
        ("exercise", GOOD + "\n\n" + thrice_helper),
        ("check", 'check("zz_twice", zz_twice)'),
    )
    tagged_notebook(
        folder / "rex" / "renamed.ipynb",
        ("exercise", "def twice(text):\n    return text * 2"),
        ("check", 'check("zz_twice", twice)'),
    )
    tagged_notebook(
        folder / "sol" / "redefined.ipynb",
        ("exercise", GOOD),
        ("check", 'check("zz_twice", zz_twice)'),
        WRONG,
    )
    # Tags and check cells gone: every exercise it defines is graded.
    tagged_notebook(folder / "tom" / "stripped.ipynb", GOOD, thrice_helper)
    helper = str(folder / "pia" / "helper.ipynb")
    result = run_grader(
        str(folder),
        helper,
        "--json",
        "--checks",
        str(checks),
        "--timeout",
        BUDGET,
        "--cell-timeout",
        CELL,
    )
    assert result.returncode == 0, result.stderr
    subs = {Path(s["notebook"]).name: s for s in json.loads(result.stdout)["submissions"]}
    assert (
        len(json.loads(result.stdout)["submissions"]) == 4
    )  # the helper notebook named twice: graded once
    by_id = {name: {e["id"]: e for e in sub["exercises"]} for name, sub in subs.items()}

    pia = by_id["helper.ipynb"]
    assert pia["zz_twice"]["passed"] and not pia["zz_upper"]["attempted"]
    assert not pia["zz_thrice"]["attempted"]
    assert pia["zz_thrice"]["checks"][0]["message"] == (
        "defined, but lesson 98's exercise: not graded in this notebook"
    )
    assert subs["helper.ipynb"]["lessons"] == ["99-grading-test"]
    # Progress counts the lesson's exercises, attempted or not: 2 of 3 checks.
    assert re.search(r"\] graded \S+helper\.ipynb: 2/3 checks passed$", result.stderr, re.M)

    rex = by_id["renamed.ipynb"]
    assert rex["zz_twice"]["attempted"] and rex["zz_twice"]["passed"]
    assert any(
        "its check cell passes twice: twice was graded as zz_twice" in n
        for n in subs["renamed.ipynb"]["notes"]
    )

    sol = by_id["redefined.ipynb"]
    assert sol["zz_twice"]["score"] == 1  # the last definition wins
    assert any(
        n.startswith('zz_twice is defined again in cell 4 ("def zz_twice(text):"), after its check')
        for n in subs["redefined.ipynb"]["notes"]
    )

    tom = by_id["stripped.ipynb"]
    assert (
        tom["zz_twice"]["passed"]
        and tom["zz_thrice"]["attempted"]
        and tom["zz_thrice"]["score"] == 0
    )


def test_table_totals_are_per_notebook():
    from tcplessons.grading import (
        ExerciseInfo,
        WorkerState,
        build_submission,
        format_table,
        write_csv,
    )

    catalogue = [
        ExerciseInfo("one", "01-a", ["a", "b"]),
        ExerciseInfo("two", "02-b", ["c", "d", "e"]),
    ]
    passes = [
        {"name": "a", "passed": True, "message": ""},
        {"name": "b", "passed": True, "message": ""},
    ]
    first_state = {
        "done": True,
        "defined": ["one"],
        "lessons": ["01-a"],
        "results": {"one": passes},
    }
    first = build_submission("first.ipynb", catalogue, WorkerState.from_dict(first_state))
    second_state = {"done": True, "defined": [], "lessons": ["02-b"]}
    second = build_submission("second.ipynb", catalogue, WorkerState.from_dict(second_state))
    table = format_table([first, second])
    assert re.search(r"^first\.ipynb\s+2/2\s+2/2$", table, re.M)  # lesson 02 is not in its total
    assert re.search(r"^second\.ipynb\s+-\s+0/3$", table, re.M)
    out = io.StringIO()
    write_csv([first, second], out)
    assert out.getvalue().splitlines()[1:] == ["first.ipynb,2,,2,2,", "second.ipynb,,0,0,3,"]


def test_seconds_are_rounded():
    from tcplessons.grading.worker import seconds

    assert seconds(1.99146) == "2 s" and seconds(1.5) == "1.5 s" and seconds(30) == "30 s"


def test_notebooks_in_subfolders_once_each(tmp_path):
    from tcplessons.grading import find_notebooks

    a = write_notebook(tmp_path / "a.ipynb", "x = 1")
    (tmp_path / "bob").mkdir()
    b = write_notebook(tmp_path / "bob" / "b.ipynb", "x = 1")
    (tmp_path / "bob" / ".ipynb_checkpoints").mkdir()
    write_notebook(tmp_path / "bob" / ".ipynb_checkpoints" / "b-checkpoint.ipynb", "x = 1")
    assert find_notebooks([str(tmp_path), str(a)]) == [a, b]


def test_a_python_file_is_a_not_graded_row_and_empty_checks_warn(tmp_path):
    script = tmp_path / "lesson.py"
    script.write_text("print(1)\n")
    (tmp_path / "empty").mkdir()
    result = run_grader(str(script), "--checks", str(tmp_path / "empty"), "-q")
    assert result.returncode == 0  # grading completed; the row says what went wrong
    assert re.search(r"lesson\.py\s+NOT GRADED$", result.stdout, re.M)
    assert (
        "NOT GRADED: could not read the notebook: lesson.py is not a notebook (.ipynb)"
        in result.stdout
    )
    shown = run_grader(str(script))  # with progress
    assert f"[1/1] graded {script}: NOT GRADED: the notebook could not be read" in shown.stderr
    assert (
        result.stderr.strip()
        == f"tcplessons grade: warning: {tmp_path / 'empty'} holds no .py files: no private checks added"
    )


def test_a_gradebook_that_cannot_be_written(tmp_path, monkeypatch, capsys):
    import tcplessons.__main__ as cli
    import tcplessons.grading as grading

    nb = write_notebook(tmp_path / "nb.ipynb", "x = 1")
    (tmp_path / "link.csv").symlink_to(tmp_path / "no" / "such" / "x.csv")
    assert (
        cli.main(["grade", str(nb), "--csv", str(tmp_path / "link.csv"), "-q"]) == 2
    )  # checked up front
    assert "cannot write the gradebook" in capsys.readouterr().err
    # A write that fails once grading is done: the report is printed first, then exit 1.
    row = grading.Submission(str(nb), [])
    monkeypatch.setattr(grading, "grade", lambda *a, **k: [row])

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(grading, "write_csv", full_disk)
    assert cli.main(["grade", str(nb), "--csv", str(tmp_path / "g.csv"), "-q"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("notebook") and str(nb) in out
    assert (
        err.strip()
        == f"tcplessons grade: could not write the gradebook to {tmp_path / 'g.csv'}: No space left on device"
    )


def _grader_with_escapee(tmp_path):
    """A grader running a notebook whose code starts a process in a session of its own.

    Its temporary folders go in ``tmp_path / "tmp"`` (TMPDIR), apart from other graders'.
    """
    (tmp_path / "tmp").mkdir()
    pids = tmp_path / "pids"
    pids.mkdir()
    write_notebook(
        tmp_path / "escape.ipynb",
        "import os, subprocess, time\n"
        f"open({str(pids / 'kernel.pid')!r}, 'w').write(str(os.getpid()))\n"
        "child = subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
        f"open({str(pids / 'child.pid')!r}, 'w').write(str(child.pid))\n"
        "time.sleep(600)",
    )
    grader = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tcplessons",
            "grade",
            str(tmp_path / "escape.ipynb"),
            "--timeout",
            "60",
            "-q",
            "--sandbox",
            "off",
        ],
        cwd=str(ROOT),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, TMPDIR=str(tmp_path / "tmp")),
    )
    deadline = time.monotonic() + 30
    while not (pids / "child.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # polling with a deadline for the notebook to get going
    kernel, child = (int((pids / f"{n}.pid").read_text()) for n in ("kernel", "child"))
    return grader, kernel, child


def _our_temp_folders(tmp_path):
    return set((tmp_path / "tmp").glob("tcplessons-grading-*"))


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="subreaper and parent-death signal: Linux only"
)
@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_a_stopped_or_killed_grader_leaves_nothing_running(tmp_path, how):
    """SIGTERM is Ctrl-C; even SIGKILL of the grader takes worker, kernel and setsid escapees along."""
    grader, kernel, child = _grader_with_escapee(tmp_path)
    try:
        grader.send_signal(getattr(signal, how))
        out, err = grader.communicate(timeout=15)
    finally:
        grader.kill()
    if how == "SIGTERM":
        assert grader.returncode == 143
        assert (
            err.strip().splitlines()[-1]
            == "tcplessons grade: stopped by SIGTERM; the notebooks being graded were stopped"
        )
    assert process_gone(kernel) and process_gone(child)
    deadline = time.monotonic() + 5
    while _our_temp_folders(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling with a deadline: the worker removes it as it goes
    assert not _our_temp_folders(tmp_path)


def test_the_grader_never_imports_ipywidgets():
    code = (
        "import sys, tcplessons.grading.cli, tcplessons.grading.worker, tcplessons.grading.cleanrun\n"
        "import tcplessons.exercises as e; e.all_exercises()\n"
        "print('ipywidgets' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT)
    )
    assert done.stdout.strip() == "False", done.stderr
    import tcplessons
    import tcplessons.widgets

    assert set(tcplessons._WIDGETS) == set(tcplessons.widgets.__all__)  # the lazy names in step
