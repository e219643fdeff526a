"""A check that cannot run on this computer is reported as skipped, never as passed:
``[skip] name (reason)``, left out of the count."""

from tcplessons.exercises.model import CheckFailed, CheckSkipped, Exercise


def _exercise():
    exercise = Exercise("demo", lesson="00-demo")

    @exercise.check("runs everywhere")
    def _(fn):
        if not fn():
            raise CheckFailed("returned something false", hint="return True")

    @exercise.check("needs ::1")
    def _(fn):
        raise CheckSkipped("this computer has no ::1")

    return exercise


def test_skipped_check_is_left_out_of_the_count():
    report = _exercise().run(lambda: True)
    assert report.passed
    assert (report.score, report.max_score) == (1, 1)
    text = str(report)
    assert text.splitlines()[0] == "demo: all 1 checks passed. Well done!"
    assert "  [skip] needs ::1 (this computer has no ::1)" in text.splitlines()
    assert "[pass] needs ::1" not in text
    assert report.to_dict()["checks"][1]["skipped"] is True
    assert "<b>skip</b>" in report._repr_html_()


def test_skips_do_not_hide_a_failure_or_make_a_stub_pass():
    report = _exercise().run(lambda: False)
    assert not report.passed
    assert (report.score, report.max_score) == (0, 1)
    assert str(report).splitlines()[0] == "demo: 0 of 1 checks passed."


def test_a_report_of_only_skips_has_not_passed():
    exercise = Exercise("only_skips", lesson="00-demo")

    @exercise.check("needs ::1")
    def _(fn):
        raise CheckSkipped("this computer has no ::1")

    assert not exercise.run(None).passed


def test_stub_summary_still_shown_when_some_checks_are_skipped():
    def stub():
        raise NotImplementedError("write demo")

    text = str(_exercise().run(stub))
    assert "not written yet" in text
    assert "    - runs everywhere" in text
