"""The sandbox (bubblewrap) proven with hostile submissions, graded in one run.

Each hostile notebook tries one thing in the same cell that defines its exercise, so if
the attempt fails inside the sandbox the exercise is reported "not attempted: ... raised
..." (the report names the error), and if it succeeded the exercise would be graded.
An honest learner's notebook is graded in the same run and must be unaffected.  No test
ever sends anything to a non-loopback address: the network test only lists interfaces.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tcplessons.grading import sandbox

ROOT = Path(__file__).resolve().parent.parent
GOOD = "def zz_twice(text):\n    return text * 2"
CHECKS = """
from tcplessons.exercises import CheckFailed, Exercise, register

SECRET_ANSWER = "abab"
twice = Exercise("zz_twice", lesson="99-grading-test", summary="return the text twice")


@twice.check("doubles a word")
def _(fn):
    if fn("ab") != SECRET_ANSWER:
        raise CheckFailed("returned the wrong text")


register(twice)
"""
#: An argument no other process on this machine has: how the test finds an escapee.
LINGER = "617.25"

needs_bwrap = pytest.mark.skipif(bool(sandbox.probe()), reason=sandbox.probe() or "bwrap works")


def write(path: Path, *cells: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=[new_code_cell(c) for c in cells]), str(path))


def processes_with(argument: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if argument.encode() in f.read().split(b"\0"):
                    found.append(int(entry))
        except (OSError, ValueError):
            continue
    return found


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("instructor")
    klass, checks, out = root / "class", root / "private_checks", root / "out"
    checks.mkdir()
    (checks / "zz_twice.py").write_text(CHECKS)
    out.mkdir()
    gradebook = out / "grades.csv"
    gradebook.write_text("notebook,zz_twice\nearlier.ipynb,2\n")
    secret = klass / "bob" / "secret.txt"
    write(klass / "bob" / "bob.ipynb", GOOD)
    secret.write_text("bob's answers")
    home_probe = Path.home() / f".tcplessons-sandbox-probe-{uuid.uuid4().hex}"
    attempts = {
        "reads_other": f"open({str(secret)!r}).read()",
        "reads_checks": f"open({str(checks / 'zz_twice.py')!r}).read()",
        "writes_gradebook": f"open({str(gradebook)!r}, 'a').write('alice.ipynb,99\\n')",
        "writes_home": f"open({str(home_probe)!r}, 'w').write('was here')",
        "unmounts_home": (
            "import subprocess\n"
            f"subprocess.run(['umount', {str(Path.home())!r}], check=True, capture_output=True)"
        ),
        "network": (
            "import socket\nnames = sorted(name for _, name in socket.if_nameindex())\n"
            "if names != ['lo']:\n    raise RuntimeError(f'reachable interfaces: {names}')\n"
            "socket.create_server(('127.0.0.1', 0)).close()  # loopback is up"
        ),
        "outlives": (
            "import subprocess\n"
            f"subprocess.Popen(['sleep', {LINGER!r}], start_new_session=True)\n"
            f"subprocess.Popen(['sh', '-c', 'sleep {LINGER} &'])"
        ),
    }
    for name, attempt in attempts.items():
        write(klass / "alice" / f"{name}.ipynb", attempt + "\n" + GOOD)
    result = subprocess.run(
        [sys.executable, "-m", "tcplessons", "grade", str(klass), "--sandbox", "require", "--json",
         "--csv", str(gradebook), "--checks", str(checks), "--jobs", "2", "-q", "--timeout", "60",
         "--cell-timeout", "10"],
        capture_output=True, text=True, timeout=600, cwd=str(ROOT),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    subs = {Path(s["notebook"]).stem: s for s in json.loads(result.stdout)["submissions"]}
    return {"subs": subs, "gradebook": gradebook, "home_probe": home_probe}


def twice(sub: dict) -> dict:
    return next(e for e in sub["exercises"] if e["id"] == "zz_twice")


@needs_bwrap
@pytest.mark.parametrize(
    "name, error",
    [
        ("reads_other", "raised FileNotFoundError"),
        ("reads_checks", "raised FileNotFoundError"),
        ("writes_gradebook", "Read-only file system"),
        ("writes_home", "Read-only file system"),
        ("unmounts_home", "raised CalledProcessError"),  # no capabilities, even as root
    ],
)
def test_a_hostile_attempt_fails_and_is_reported(hostile, name, error):
    sub = hostile["subs"][name]
    assert sub["sandbox"] == "bwrap"
    row = twice(sub)
    assert not row["attempted"], row
    assert row["checks"][0]["message"].startswith('not attempted: cell 1 ("'), row
    assert error in row["checks"][0]["message"], row


@needs_bwrap
def test_nothing_reached_the_instructors_files(hostile):
    assert not hostile["home_probe"].exists()
    rows = list(csv.DictReader(hostile["gradebook"].open()))
    assert "earlier.ipynb" not in {r["notebook"] for r in rows}  # the grader's own, rewritten
    assert not any(r["notebook"].endswith("alice.ipynb") for r in rows)


@needs_bwrap
def test_only_loopback_is_reachable(hostile):
    assert twice(hostile["subs"]["network"])["passed"]


@needs_bwrap
def test_nothing_outlives_the_worker(hostile):
    assert twice(hostile["subs"]["outlives"])["passed"]
    assert processes_with(LINGER) == []


@needs_bwrap
def test_the_honest_learner_is_unaffected(hostile):
    bob = hostile["subs"]["bob"]
    assert twice(bob)["passed"] and not bob["tampered"] and bob["sandbox"] == "bwrap"


def test_auto_says_once_and_grades_unsandboxed(monkeypatch):
    told = []
    monkeypatch.setattr(sandbox, "probe", lambda: "bwrap (Debian's bubblewrap) is not installed")
    assert sandbox.choose("auto", told.append) == "off"
    assert told == [
        "warning: bwrap (Debian's bubblewrap) is not installed; grading without a sandbox"
        " (--sandbox=off to silence this)"
    ]
    with pytest.raises(sandbox.SandboxUnavailable, match="--sandbox=require, but bwrap"):
        sandbox.choose("require", told.append)
    assert sandbox.choose("off", told.append) == "off" and len(told) == 1


def test_the_bwrap_command_hides_and_isolates(tmp_path):
    package = ROOT / "tcplessons"
    (tmp_path / "class").mkdir()
    args = sandbox.bwrap_command(tmp_path / "job", package, [str(tmp_path / "class")])
    text = " ".join(args)
    for option in (
        "--unshare-net",
        "--unshare-pid",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
    ):
        assert option in args
    assert f"--tmpfs {Path.home()}" in text and f"--remount-ro {Path.home()}" in text
    assert f"--tmpfs {tmp_path / 'class'}" in text and "--tmpfs /tmp" in text
    assert f"--bind {tmp_path / 'job'} {tmp_path / 'job'}" in text
