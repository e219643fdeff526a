"""A class graded past one machine: ``grade --shard K/N`` parts merged into one gradebook
equal a single run's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from tcplessons.grading import shard

ROOT = Path(__file__).resolve().parent.parent
CHECKS = """
from tcplessons.exercises import CheckFailed, Exercise, register

twice = Exercise("zz_twice", lesson="99-grading-test", summary="return the text twice")


@twice.check("doubles a word")
def _(fn):
    if fn("ab") != "abab":
        raise CheckFailed("returned the wrong text")


register(twice)
"""


def run(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "tcplessons", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=str(ROOT))


def test_shards_are_contiguous_slices_that_join_back():
    items = list(range(7))
    for n in (1, 2, 3, 7, 9):
        parts = [shard(items, k, n) for k in range(1, n + 1)]
        assert [i for part in parts for i in part] == items


def test_n_shards_merged_equal_one_run(tmp_path):
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "twice.py").write_text(CHECKS)
    klass = tmp_path / "class"
    bodies = ["return text * 2", "return text", "return text + text", None, "return 2 * text"]
    for number, body in enumerate(bodies):
        cells = [f"def zz_twice(text):\n    {body}"] if body else ["x = 1"]
        folder = klass / f"learner{number}"
        folder.mkdir(parents=True)
        nbformat.write(
            new_notebook(cells=[new_code_cell(c) for c in cells]), str(folder / "work.ipynb")
        )
    common = [
        "--checks",
        str(checks),
        "--jobs",
        "2",
        "-q",
        "--timeout",
        "60",
        "--cell-timeout",
        "10",
    ]
    whole = run("grade", str(klass), "--csv", str(tmp_path / "one.csv"), "--json", *common)
    assert whole.returncode == 0, whole.stderr
    parts = []
    for k in (3, 1, 2):  # any order
        part = tmp_path / f"part{k}.json"
        done = run("grade", str(klass), "--shard", f"{k}/3", "--output", str(part), *common)
        assert done.returncode == 0 and done.stdout == "", done.stderr
        parts.append(str(part))
    merged = run("gradebook", "merge", *parts, "--csv", str(tmp_path / "merged.csv"))
    assert merged.returncode == 0, merged.stderr
    one = (tmp_path / "one.csv").read_text()
    assert (tmp_path / "merged.csv").read_text() == one
    assert one.count("\n") == 6 and ",zz_twice," in one.splitlines()[0] + ","
    printed = run("gradebook", "merge", *parts)
    assert printed.stdout == one
    missing = run("gradebook", "merge", *parts[:2])
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        "tcplessons gradebook merge: need each of the 3 shards once; missing [2], got [1, 3]"
    )


def test_the_readme_recipes_call_the_grader_as_it_is():
    """The README's GitHub Actions matrix and Kubernetes Job: valid YAML whose grading
    commands the command line accepts, with the shard index filled in."""
    import re
    import shlex

    import yaml

    from tcplessons.grading.cli import build_parser

    text = (ROOT / "README.md").read_text()
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]
    actions = next(b for b in blocks if "jobs" in b)
    job = next(b for b in blocks if b.get("kind") == "Job")
    assert job["spec"]["completionMode"] == "Indexed"
    steps = [s.get("run", "") for j in actions["jobs"].values() for s in j["steps"]]
    pod = job["spec"]["template"]["spec"]["containers"][0]["args"]
    commands = [c for c in steps + pod if "-m tcplessons" in c]
    assert len(commands) == 3
    for command in commands:
        command = command.replace("${{ matrix.shard }}", "3").replace(
            "$((JOB_COMPLETION_INDEX + 1))", "3"
        )
        words = shlex.split(command)
        args = build_parser().parse_args(words[words.index("tcplessons") + 1 :])
        assert args.command in ("grade", "gradebook")
        if args.command == "grade":
            assert args.shard == "3/8" and args.output.endswith("part3.json")
