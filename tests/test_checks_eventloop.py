"""Lesson 07's checks accept every correct form the issue names: echo_loop written with
select.select, with selectors, with memoryview outboxes; call_all written with gather,
a TaskGroup, wait_for or asyncio.timeout.  (The reference solutions and the buggy
variants are judged by tests/test_exercise_variants.py.)"""

from pathlib import Path

import pytest
from course import load_definition

from tcplessons.exercises import get_exercise

ACCEPTED = Path(__file__).resolve().parent / "accepted"
FORMS = [(p.parent.name, p) for p in sorted(ACCEPTED.glob("*/*.py"))]


def test_every_named_form_is_kept():
    names = {(name, p.stem) for name, p in FORMS}
    assert {("echo_loop", "select_select"), ("echo_loop", "memoryview_outbox")} <= names
    assert {
        ("call_all", "gather_wait_for"),
        ("call_all", "task_group"),
        ("call_all", "wait_for_tasks"),
    } <= names


@pytest.mark.parametrize("name,path", FORMS, ids=[f"{n}/{p.stem}" for n, p in FORMS])
def test_accepted_form_passes_every_check(name, path):
    obj, _ = load_definition(path.read_text(), name, str(path))
    report = get_exercise(name).run(obj)
    assert report.passed, str(report)
