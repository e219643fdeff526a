"""Every exercise's checks judge fairly: the reference solution passes every check, the
notebook's stub fails every check, and each buggy variant that real learners write fails
with the message that points at its mistake."""

import pytest

from course import buggy_variants, load_definition, solution_source, stubs
from tcplessons.exercises import all_exercises, get_exercise

EXERCISES = [e.id for e in all_exercises()]
STUBS = stubs()
VARIANTS = [(name, path) for name in EXERCISES for path in buggy_variants(name)]


def test_every_exercise_has_a_solution_a_stub_and_buggy_variants():
    for name in EXERCISES:
        assert solution_source(name), name
        assert name in STUBS, f"no notebook has an exercise cell defining {name}"
        assert buggy_variants(name), f"no buggy variants kept for {name}"


@pytest.mark.parametrize("name", EXERCISES)
def test_reference_solution_passes_every_check(name):
    obj, _ = load_definition(solution_source(name), name, f"solutions/{name}.py")
    report = get_exercise(name).run(obj)
    assert report.passed, str(report)


@pytest.mark.parametrize("name", EXERCISES)
def test_stub_fails_every_check(name):
    notebook, source = STUBS[name]
    obj, _ = load_definition(source, name, notebook)
    report = get_exercise(name).run(obj)
    failed = [r for r in report.run_results if not r.passed]  # skipped checks did not run
    assert len(failed) == len(report.run_results) > 0, str(report)
    assert all("NotImplementedError" in r.message or "not written yet" in r.message for r in failed)


@pytest.mark.parametrize("name,path", VARIANTS, ids=[f"{n}/{p.stem}" for n, p in VARIANTS])
def test_buggy_variant_fails_with_its_message(name, path):
    obj, namespace = load_definition(path.read_text(), name, str(path))
    expect = namespace.get("EXPECT")
    assert expect, f"{path} must set EXPECT to the text its failure should show"
    report = get_exercise(name).run(obj)
    assert not report.passed, f"{path.name} passed every check:\n{report}"
    messages = [r.message for r in report.results if not r.passed]
    assert any(expect in m for m in messages), f"{expect!r} not in:\n{report}"
