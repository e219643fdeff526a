"""The exercise model: how checks become a report a learner can read."""

import pytest

from tcplessons.exercises import CheckFailed, Exercise


def make_exercise():
    ex = Exercise("double", lesson="00-test")

    @ex.check("doubles 2")
    def _(fn):
        got = fn(2)
        if not isinstance(got, int):
            raise CheckFailed(
                "double(2) did not return an int",
                got=repr(got),
                hint="return a number",
                cause="type",
            )
        if got != 4:
            raise CheckFailed(
                "double(2) is wrong", sent="2", got=repr(got), expected="4", hint="multiply by 2"
            )

    @ex.check("doubles 5")
    def _(fn):
        got = fn(5)
        if not isinstance(got, int):
            raise CheckFailed(
                "double(5) did not return an int",
                got=repr(got),
                hint="return a number",
                cause="type",
            )
        if got != 10:
            raise CheckFailed("double(5) is wrong", expected="10")

    return ex


def test_a_correct_answer_passes_every_check():
    report = make_exercise().run(lambda n: n * 2)
    assert report.passed and report.score == report.max_score == 2
    assert (
        str(report)
        == "double: all 2 checks passed. Well done!\n  [pass] doubles 2\n  [pass] doubles 5"
    )


def test_a_failure_says_what_was_sent_got_expected_and_a_hint():
    report = make_exercise().run(lambda n: n + 2)
    assert not report.passed and report.score == 1
    assert report.results[1].message == "double(5) is wrong\nexpected: 10"
    assert report.to_dict()["checks"][0] == {"name": "doubles 2", "passed": True, "message": ""}


def test_one_root_cause_is_explained_once():
    report = make_exercise().run(lambda n: str(n * 2))
    first, second = (r.message for r in report.results)
    assert first == "double(2) did not return an int\ngot: '4'\nhint: return a number"
    assert second == "double(5) did not return an int — the same problem as above"


def test_a_stub_is_reported_as_not_written_yet():
    def double(n):
        raise NotImplementedError("Write double(n): return twice n")

    report = make_exercise().run(double)
    assert report.score == 0
    text = str(report)
    assert "not written yet: Write double(n): return twice n" in text
    assert "- doubles 2" in text and "- doubles 5" in text
    assert "Write double(n)" in report._repr_html_()


@pytest.mark.parametrize("exc", [SystemExit(3), ZeroDivisionError("oops"), RecursionError()])
def test_anything_the_learners_code_raises_is_a_failed_check(exc):
    def double(n):
        raise exc

    report = make_exercise().run(double)
    assert report.score == 0
    assert all(f"your code raised {type(exc).__name__}" in r.message for r in report.results)


def test_html_is_escaped_and_deterministic():
    report = make_exercise().run(lambda n: "<b>")
    html = report._repr_html_()
    assert "&lt;b&gt;" in html and "<b>'" not in html
    assert html == make_exercise().run(lambda n: "<b>")._repr_html_()


def test_check_names_are_unique():
    ex = make_exercise()
    with pytest.raises(ValueError, match="already has a check named 'doubles 2'"):
        ex.check("doubles 2")(lambda fn: None)
