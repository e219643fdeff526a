"""Every lesson, run in JupyterLab in a real Chromium, the way a learner runs it.

One JupyterLab server (``jupyter lab notebooks/``, as the README says) serves all
notebooks; for each ``notebooks/NN-*.ipynb`` the test opens it, clears its outputs, uses
Kernel > Restart Kernel and Run All Cells, waits for the last cell, and checks what the
learner sees:

- no error output, except in cells tagged ``raises-exception`` (which must show one);
- every widget the notebook displays rendered: none stuck on "Loading widget...", none
  saying "Error displaying widget", as many as the stored notebook has;
- a live widget answers: a Switchboard shows a new line when its "Ring the doorbell"
  button is clicked and when a client cell connects (while that cell still runs), marks
  the caller's hang-up, and its "Hang up" button closes a line; a ChatWindow sends what
  is typed and shows a bot's reply;
- the course's JupyterLab settings (``jupyter-config/``) apply: no "Restart Kernel?"
  dialog, no news prompt.

A picture of each lesson goes to ``screenshots/`` (kept out of git).  Run only this test
with ``pytest tests/test_browser.py`` (or ``pytest -m browser``);
``TCPLESSONS_BROWSER_NOTEBOOKS=DIR`` points it at another folder of notebooks.
It is skipped, with one line saying why, where Chromium or Playwright is missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_support import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    COURSE_SETTINGS,
    JupyterLab,
    NotebookPage,
    wait_until,
)

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    pytest.skip("playwright is not installed (pip install playwright)", allow_module_level=True)

CHROMIUM_PATH = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
if not CHROMIUM_PATH:  # pragma: no cover - depends on the machine
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = Path(os.environ.get("TCPLESSONS_BROWSER_NOTEBOOKS") or ROOT / "notebooks").resolve()
SCREENSHOTS = ROOT / "screenshots"

#: How long one lesson may take to run all its cells in the browser: a bound for a hang,
#: not a speed figure (lesson 07's measurements take a while on a loaded machine).
RUN_ALL_TIMEOUT = 180

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
ERROR_MIME = "application/vnd.jupyter.stderr"


def lesson_files():
    return sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


class Expected:
    """What the stored notebook says about its cells: tags, widgets, which live widget."""

    def __init__(self, path: Path):
        nb = nbformat.read(path, as_version=4)
        self.cells = nb.cells
        self.tags = [set(c.get("metadata", {}).get("tags", [])) for c in nb.cells]
        self.raises = ["raises-exception" in tags for tags in self.tags]
        self.widgets = []  # per cell: how many widget outputs
        reprs = []
        for c in nb.cells:
            outputs = c.get("outputs", []) if c.cell_type == "code" else []
            self.widgets.append(sum(1 for o in outputs if WIDGET_MIME in o.get("data", {})))
            reprs += [o.get("data", {}).get("text/plain", "") for o in outputs]
        reprs = ["".join(r) if isinstance(r, list) else r for r in reprs]
        self.has_switchboard = any(r.startswith("<Switchboard for") for r in reprs)
        self.has_chat_window = any(r.startswith("<ChatWindow") for r in reprs)

    def first_line(self, index: int) -> str:
        source = self.cells[index].source.strip().splitlines()
        return source[0][:80] if source else ""


# -- fixtures: one server, one browser for the whole module ---------------------------------


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = JupyterLab(NOTEBOOKS, tmp_path_factory.mktemp("jupyterlab")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser_context():
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        try:
            # One context for every lesson: JupyterLab's scripts load from cache after
            # the first page.
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            yield context
            context.close()
        finally:
            browser.close()


@contextlib.contextmanager
def new_page(browser_context):
    """A fresh tab; ``page.js_errors`` collects uncaught errors of the page's scripts."""
    page = browser_context.new_page()
    page.set_default_timeout(20_000)
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    try:
        yield page
    finally:
        page.close()


# -- the course's settings reach JupyterLab -------------------------------------------------


def test_course_settings_reach_jupyterlab(lab, capsys):
    """The project's overrides (no news fetch, no restart dialog, no saved widget state)."""
    assert COURSE_SETTINGS.exists(), f"missing {COURSE_SETTINGS}"
    with capsys.disabled():
        if lab.course_settings_installed:
            print("\n  course settings: installed next to JupyterLab, as a learner gets them")
        else:
            print(
                "\n  course settings: NOT installed in this environment (pip install ./jupyter-config);"
                " this test serves them from jupyter-config/"
            )

    def default(plugin: str, key: str):
        schema = lab.api("GET", f"lab/api/settings/{plugin}")["schema"]
        return schema["properties"][key]["default"]

    assert default("@jupyterlab/apputils-extension:notification", "fetchNews") == "false"
    assert default("@jupyterlab/apputils-extension:notification", "checkForUpdates") is False
    assert (
        default("@jupyterlab/apputils-extension:sessionDialogs", "skipKernelRestartDialog") is True
    )
    assert default("@jupyter-widgets/jupyterlab-manager:plugin", "saveState") is False


# -- every lesson -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", lesson_files(), ids=lambda p: p.stem)
def test_lesson_runs_in_jupyterlab(path, lab, browser_context, capsys):
    pictures = []
    try:
        for attempt in (1, 2):
            before = path.read_bytes()
            try:
                run_lesson(path, lab, browser_context, pictures)
                return
            except Exception:
                # Someone rebuilt the notebook while it ran (lessons are rebuilt in
                # place): that run says nothing about the new file, so run the new one.
                if attempt == 1 and path.read_bytes() != before:
                    pictures.clear()
                    continue
                raise
    finally:
        with capsys.disabled():
            names = ", ".join(p.name for p in pictures) or "none"
            print(f"\n  {path.stem}: screenshots in {SCREENSHOTS}/: {names}")


def run_lesson(path: Path, lab: JupyterLab, browser_context, pictures: list) -> None:
    """Open, clear, restart and run all, check, then play with the live widgets."""
    expected = Expected(path)
    with new_page(browser_context) as page:
        notebook = NotebookPage(page, lab, path.name)
        try:
            notebook.open()
            notebook.restart_and_run_all(expected.raises, RUN_ALL_TIMEOUT)
            cells = notebook.wait_for_widgets()
            # The course's settings at work: one click restarts and runs, no news toast.
            assert notebook.restart_dialogs == 0, "JupyterLab asked to confirm the kernel restart"
            assert "official Jupyter news" not in (page.locator("body").text_content() or ""), (
                "JupyterLab asks about fetching news: the course's settings did not apply"
            )
            pictures += notebook.screenshot(SCREENSHOTS, path.stem)
            check_run_all(path, expected, cells, notebook)

            if expected.has_switchboard:
                pictures += check_switchboard(notebook, path.stem)
            if expected.has_chat_window:
                pictures += check_chat_window(notebook, path.stem)
        except BaseException:
            if not pictures:
                try:
                    pictures += notebook.screenshot(SCREENSHOTS, f"{path.stem}-failed")
                except Exception:
                    pass
            raise
        finally:
            lab.shut_down_kernels(path.name)


def check_run_all(path, expected: Expected, cells, notebook: NotebookPage) -> None:
    page = notebook.page
    problems = []
    if len(cells) != len(expected.cells):
        problems.append(
            f"JupyterLab shows {len(cells)} cells, the notebook has {len(expected.cells)}"
        )
    for i, (cell, tags) in enumerate(zip(cells, expected.tags)):
        if cell.type != "code":
            continue
        where = f"cell {i + 1} ({expected.first_line(i)!r})"  # counted from 1, as a reader would
        errors = [o for o in cell.outputs if o.mime == ERROR_MIME]
        if not cell.ran:
            problems.append(f"{where} did not run (prompt {cell.prompt!r})")
        if "raises-exception" in tags:
            if not errors:
                problems.append(f"{where} is tagged raises-exception but showed no error")
        elif errors:
            last = errors[-1].text.strip().splitlines()[-1:] or [""]
            problems.append(f"{where} wrote an error or to stderr: {last[0][:300]}")
        widgets = [o for o in cell.outputs if o.is_widget]
        for o in widgets:
            if "Error displaying widget" in o.text:
                problems.append(f"{where}: {o.text.strip()[:200]}")
            elif "Loading widget" in o.text:
                problems.append(f"{where}: a widget is stuck on 'Loading widget...'")
            elif not o.widget:
                problems.append(f"{where}: a widget output rendered nothing")
        if len(widgets) != expected.widgets[i]:
            problems.append(
                f"{where} shows {len(widgets)} widgets, the stored notebook has {expected.widgets[i]}"
            )
    if problems:
        # Clues for a run that stopped early: a dialog, a kernel restart, a page error.
        if page.js_errors:
            problems.append("errors in the page: " + "; ".join(page.js_errors[:3]))
        for dialog in page.locator(".jp-Dialog").all_text_contents():
            problems.append(f"a dialog is open: {dialog[:200]}")
        kernel_news = [line for line in notebook.lab.log_tail(200).splitlines() if "ernel" in line]
        if kernel_news:
            problems.append(
                "JupyterLab's log about kernels:\n    " + "\n    ".join(kernel_news[-8:])
            )
    assert not problems, f"{path.name} in JupyterLab:\n  " + "\n  ".join(problems)


# -- live widgets -----------------------------------------------------------------------------

SWITCHBOARD_CELL = """\
import tcplessons
browser_server = tcplessons.start_echo_server(name="browser check")
browser_board = tcplessons.Switchboard(browser_server)
display(browser_board)"""

# The cell stays busy until the test has seen line 2 on the page: the board must follow
# the server live while a cell runs, not only once the kernel is idle again.  It waits
# on a socket the test holds (bounded by its timeout), like any caller waits for an answer.
CLIENT_CELL = """\
browser_call = tcplessons.connect(browser_server.address)
browser_call.sendall(b"hello")
browser_server.log.wait_for("sent", line=2, timeout=5)
print(browser_call.recv(1024))  # read the echo: closing with unread data resets the line
with tcplessons.connect({gate!r}, timeout=10) as gate:
    print(gate.recv(1024))"""

HANG_UP_CELL = """\
browser_call.close()
browser_server.log.wait_for("hung up", line=2, timeout=5)"""

BOARD_TEXT_CELL = """\
browser_server.log.wait_for("closed", line=1, timeout=5)
print(browser_board.text())
browser_server.stop()"""


def board_rows(board) -> list:
    return [t.strip() for t in board.locator(".tcplessons-line").all_text_contents()]


def wait_for_row(board, row: str, timeout: float = 10) -> None:
    def shown():
        rows = board_rows(board)
        assert any(r.startswith(row) for r in rows), f"the board shows {rows}"
        return True

    wait_until(f"the switchboard to show {row!r}", shown, timeout)


def check_switchboard(notebook: NotebookPage, stem: str):
    """Ring, call from a cell, hang up from both ends: the board follows in the browser."""
    page = notebook.page
    index = notebook.run_new_cell(SWITCHBOARD_CELL)
    board = notebook.cell(index).locator(".tcplessons-switchboard").first
    board.wait_for(timeout=10_000)
    assert "listening" in board.text_content()

    # The board dials the server itself: line 1 appears, open.
    board.get_by_role("button", name="Ring the doorbell").click()
    wait_for_row(board, "line 1: open")

    # A client cell connects and sends: line 2 appears and counts the echoed bytes,
    # while that cell is still running.
    with socket.create_server(("127.0.0.1", 0)) as gate:
        gate.settimeout(10)
        client = notebook.run_new_cell(CLIENT_CELL.format(gate=gate.getsockname()), wait=False)
        conn, _ = gate.accept()  # the cell has sent "hello" and now waits for us
        with conn:
            wait_for_row(board, "line 2: open, 5 bytes in, 5 bytes out")
            assert notebook.cells()[client].running, "the client cell should still be running"
            conn.sendall(b"seen")
    notebook.wait_for_cell(client)
    assert "b'hello'" in notebook.outputs_text(client) and "b'seen'" in notebook.outputs_text(
        client
    )

    # The caller hangs up: the board says so.
    notebook.run_new_cell(HANG_UP_CELL)
    wait_for_row(board, "line 2: closed after the caller finished")

    # "Hang up" on line 1 ends that call from the server's side.
    row = board.locator(".tcplessons-line", has_text="line 1: open").first
    row.get_by_role("button", name="Hang up").click()
    wait_for_row(board, "line 1: closed")

    path = SCREENSHOTS / f"{stem}-switchboard.png"
    notebook.cell(index).scroll_into_view_if_needed()
    notebook.cell(index).screenshot(path=str(path))

    # The kernel agrees with what the page shows; stopping the server shows too.
    last = notebook.run_new_cell(BOARD_TEXT_CELL)
    text = notebook.outputs_text(last)
    assert (
        "line 1: closed" in text
        and "line 2: closed after the caller finished, 5 bytes in, 5 bytes out" in text
    ), text
    wait_until("the board to say stopped", lambda: "stopped" in board.text_content(), 10)
    assert not page.js_errors, page.js_errors
    return [path]


CHAT_CELL = """\
import tcplessons
browser_chat = tcplessons.start_chat_server(name="browser chat")
browser_bots = tcplessons.start_bots(browser_chat, ["ada"])
browser_window = tcplessons.ChatWindow(browser_chat, "you")
display(browser_window)"""

BOT_REPLY_CELL = """\
browser_bots[0].wait_for("you: hello from the browser", timeout=5)
browser_bots[0].say("hi, browser!")
browser_window.wait_for("ada: hi, browser!", timeout=5)"""

CHAT_END_CELL = """\
print(browser_window.text())
browser_window.close()
browser_bots[0].close()
browser_chat.stop()"""


def check_chat_window(notebook: NotebookPage, stem: str):
    """Type a message, press Send: the bot gets it, and its reply shows in the window."""
    page = notebook.page
    index = notebook.run_new_cell(CHAT_CELL)
    window = notebook.cell(index).locator(".jp-OutputArea-output .jupyter-widgets").first
    window.wait_for(timeout=10_000)
    typed = notebook.cell(index).locator("input[type=text]").first
    typed.click()
    typed.fill("hello from the browser")
    notebook.cell(index).get_by_role("button", name="Send").click()
    # The window shows what we said; the bot (a real TCP client) received it.
    wait_until(
        "the chat window to show the message",
        lambda: "you: hello from the browser" in notebook.cell(index).text_content(),
        10,
    )
    notebook.run_new_cell(BOT_REPLY_CELL)
    wait_until(
        "the bot's reply in the chat window",
        lambda: "ada: hi, browser!" in notebook.cell(index).text_content(),
        10,
    )
    path = SCREENSHOTS / f"{stem}-chat.png"
    notebook.cell(index).scroll_into_view_if_needed()
    notebook.cell(index).screenshot(path=str(path))
    last = notebook.run_new_cell(CHAT_END_CELL)
    text = notebook.outputs_text(last)
    assert "you: hello from the browser" in text and "ada: hi, browser!" in text, text
    assert not page.js_errors, page.js_errors
    return [path]
