"""requirements.txt (pip) and environment.yml (conda, Binder) describe one environment."""

import re

from course import ROOT


def requirement_lines(lines):
    return sorted(
        line.strip() for line in lines if line.strip() and not line.strip().startswith("#")
    )


def test_requirements_and_environment_agree():
    pip_side = requirement_lines((ROOT / "requirements.txt").read_text().splitlines())
    text = (ROOT / "environment.yml").read_text()
    pip_section = text.split("- pip:", 1)[1]
    conda_side = requirement_lines(
        re.sub(r"^\s*-\s+", "", line)
        for line in pip_section.splitlines()
        if line.strip().startswith("-")
    )
    assert pip_side == conda_side


def test_requirements_install_the_package_and_the_named_tools():
    names = {
        re.split(r"[=<>!~ ]", line)[0].lower().replace("_", "-")
        for line in requirement_lines((ROOT / "requirements.txt").read_text().splitlines())
    }
    assert "-e" in names  # the package itself, so notebooks import it from any folder
    assert {"jupyterlab", "ipywidgets", "nbval", "pytest"} <= names


def test_readme_quick_start_has_the_three_commands():
    readme = (ROOT / "README.md").read_text()
    for command in (
        "python -m pip install -r requirements.txt",
        "jupyter lab notebooks/",
        "pytest",
    ):
        assert f"\n{command}\n" in readme, command


def test_ci_runs_the_readme_commands():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "\npython -m pip install -r requirements.txt\n" in ci
    assert "\npytest\n" in ci
