"""Helpers for the browser test: a JupyterLab server and a notebook page in Chromium.

``tests/test_browser.py`` uses them; nothing here is collected as a test.

- :class:`JupyterLab` starts ``jupyter lab notebooks/`` as a learner would, on
  127.0.0.1 and a port the OS picks, with a token made here and temporary Jupyter
  directories (so neither the learner's own settings nor this test's leak either way).
- :class:`NotebookPage` drives one notebook in JupyterLab through its menus and keyboard
  and reads what the learner sees from the page (cells, prompts, outputs, widgets).

Every wait is bounded and polls the page or the server; nothing sleeps to order events.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The course's JupyterLab settings.  ``jupyter-config/`` is a tiny package of data files
#: that ``pip install -r requirements.txt`` installs into ``{sys.prefix}/share/jupyter/
#: lab/settings/overrides.d/``, where a learner's ``jupyter lab`` reads them.
COURSE_SETTINGS = ROOT / "jupyter-config" / "lab" / "settings" / "overrides.d" / "tcplessons.json"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Containers often give /dev/shm only 64 MB; a tall notebook screenshot needs more.
    "--disable-dev-shm-usage",
]

#: Settings only this test needs, on top of the course's: never save a lesson file
#: (the test re-runs the committed notebooks; JupyterLab autosaves every two minutes).
TEST_USER_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}


def wait_until(what: str, ready: Callable[[], object], timeout: float, every: float = 0.1):
    """Call ``ready()`` until it returns something true; return it.  Bounded by ``timeout``.

    ``ready`` may raise AssertionError to say why it is not ready yet; the last reason is
    part of the TimeoutError.
    """
    deadline = time.monotonic() + timeout
    reason = ""
    while True:
        try:
            value = ready()
            if value:
                return value
        except AssertionError as exc:
            reason = f": {exc}"
        if time.monotonic() >= deadline:
            raise TimeoutError(f"waited {timeout:g} s for {what}{reason}")
        time.sleep(every)


# -- the server ---------------------------------------------------------------------------


class JupyterLab:
    """``jupyter lab NOTEBOOKS`` in a subprocess of this Python, ready when start() returns."""

    def __init__(self, notebooks: Path, workdir: Path):
        self.notebooks = Path(notebooks).resolve()
        self.workdir = Path(workdir)
        self.token = secrets.token_hex(24)
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.log_path = self.workdir / "jupyterlab.log"
        self.course_settings_installed = False

    # Where the learner's own Jupyter settings would come from: all replaced by
    # empty temporary folders, so the test sees only what the project installs.
    def _environment(self) -> dict:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("JUPYTER", "JUPYTERLAB_", "JPY_")) and k != "IPYTHONDIR"
        }
        for name in ("config", "data", "runtime", "ipython"):
            (self.workdir / name).mkdir(parents=True, exist_ok=True)
        # `python -m jupyter lab` looks for `jupyter-lab` on PATH: this environment's first.
        scripts = sysconfig.get_path("scripts") or os.path.dirname(sys.executable)
        env["PATH"] = os.pathsep.join([scripts, env.get("PATH", os.defpath)])
        env.update(
            JUPYTER_CONFIG_DIR=str(self.workdir / "config"),
            JUPYTER_DATA_DIR=str(self.workdir / "data"),
            JUPYTER_RUNTIME_DIR=str(self.workdir / "runtime"),
            IPYTHONDIR=str(self.workdir / "ipython"),
            JUPYTER_PLATFORM_DIRS="1",
            PYTHONUNBUFFERED="1",
        )
        return env

    def _write_user_settings(self) -> None:
        user = self.workdir / "config" / "lab" / "user-settings"
        for plugin, values in TEST_USER_SETTINGS.items():
            path = user / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values), encoding="utf-8")

    def _app_settings_args(self) -> list[str]:
        """Make sure the course's settings apply, installed or not.

        After ``pip install -r requirements.txt`` they sit in the environment's
        ``share/jupyter/lab/settings/overrides.d``; in a checkout where they are not
        installed yet, serve a copy of that folder with them added.
        """
        installed = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings"
        self.course_settings_installed = (installed / "overrides.d" / COURSE_SETTINGS.name).exists()
        if self.course_settings_installed or not COURSE_SETTINGS.exists():
            return []
        settings = self.workdir / "app-settings"
        if installed.is_dir():
            shutil.copytree(installed, settings, dirs_exist_ok=True)
        (settings / "overrides.d").mkdir(parents=True, exist_ok=True)
        shutil.copy(COURSE_SETTINGS, settings / "overrides.d" / COURSE_SETTINGS.name)
        return [f"--LabApp.app_settings_dir={settings}"]

    def command(self) -> list[str]:
        # The README's `jupyter lab notebooks/`, plus only what a test needs.
        args = [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            str(self.notebooks),
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port=0",  # the OS picks a free port; we read it back below
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.notebooks}",
            f"--IdentityProvider.token={self.token}",
            # JupyterLab checkpoints a notebook when it opens it: keep those out of notebooks/.
            f"--FileCheckpoints.checkpoint_dir={self.workdir / 'checkpoints'}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--allow-root")  # CI containers run as root
        return args + self._app_settings_args()

    def start(self, timeout: float = 60) -> JupyterLab:
        env = self._environment()
        self._write_user_settings()
        log = open(self.log_path, "wb")
        try:
            self.process = subprocess.Popen(
                self.command(),
                env=env,
                cwd=str(ROOT),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so stop() can end all of it
            )
        finally:
            log.close()
        # The server writes its real URL (with the port it got) into a runtime file
        # named after its process id; `python -m jupyter` execs, so the id is the same.
        info_file = self.workdir / "runtime" / f"jpserver-{self.process.pid}.json"

        def server_info():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if info_file.exists():
                try:
                    return json.loads(info_file.read_text(encoding="utf-8"))
                except ValueError:
                    return None  # being written
            return None

        try:
            info = wait_until("jupyter lab's runtime file", server_info, timeout)
            self.url = f"http://127.0.0.1:{info['port']}{info.get('base_url', '/')}"
            wait_until(
                "jupyter lab to answer", lambda: self.api("GET", "api/status") is not None, timeout
            )
        except BaseException:
            self.stop()
            raise
        return self

    def api(self, method: str, path: str, timeout: float = 5):
        """One REST call to the server; the decoded JSON reply (None for an empty one)."""
        request = urllib.request.Request(
            self.url + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                body = reply.read()
        except (urllib.error.URLError, ConnectionError):
            if method == "GET" and path == "api/status":
                return None
            raise
        return json.loads(body) if body else {}

    def page_url(self, notebook_name: str) -> str:
        name = urllib.parse.quote(notebook_name)
        return f"{self.url}lab/tree/{name}?reset&token={self.token}"

    def shut_down_kernels(self, notebook_name: str | None = None) -> None:
        """End the kernel of ``notebook_name`` (every kernel if None) through the REST API."""
        for session in self.api("GET", "api/sessions") or []:
            if notebook_name is None or session.get("path", "").endswith(notebook_name):
                self.api("DELETE", f"api/sessions/{session['id']}")

    def log_tail(self, n: int = 30) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def stop(self, timeout: float = 10) -> None:
        """End the server (its process group) and any kernel it left behind."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            # SIGTERM: the server shuts its kernels down, then exits.
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    process.wait(timeout)
                    break
                except subprocess.TimeoutExpired:
                    continue
        # Kernels run in sessions of their own; one that outlived a killed server is
        # found by its connection file in our runtime folder, and ended by its id.
        leftovers = self._leftover_kernels()
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if leftovers:
            try:
                wait_until("left-over kernels to end", lambda: not self._leftover_kernels(), 5)
            except TimeoutError:
                pass  # nothing more we may do; the next run uses a new runtime folder

    def _leftover_kernels(self) -> list[int]:
        runtime = str(self.workdir / "runtime") + os.sep
        pids = []
        proc = Path("/proc")
        if not proc.is_dir():
            return pids
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                args = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(a.decode(errors="replace").startswith(runtime + "kernel-") for a in args):
                pids.append(int(entry.name))
        return pids


# -- what the page shows ------------------------------------------------------------------

# Reads the notebook as the learner sees it: one entry per cell, in order.
_SNAPSHOT_JS = r"""
() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return null;
  const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  const cells = [...panel.querySelectorAll('.jp-Notebook .jp-Cell')].map((cell) => {
    const type = cell.classList.contains('jp-CodeCell') ? 'code'
      : cell.classList.contains('jp-MarkdownCell') ? 'markdown' : 'raw';
    const prompt = cell.querySelector('.jp-InputArea-prompt');
    // Top-level outputs only: an Output widget has output areas of its own inside.
    const outputs = [...cell.querySelectorAll('.jp-OutputArea-output')]
      .filter((o) => o.closest('.jp-Cell') === cell && !o.parentElement.closest('.jupyter-widgets'))
      .map((o) => ({
        mime: o.getAttribute('data-mime-type') || '',
        // textContent, not innerText: a cell scrolled out of view is not laid out
        // (content-visibility), and innerText of such a cell is empty.
        text: (o.textContent || '').slice(0, 4000),
        // A widget view replaces the output's content; it has no data-mime-type.
        widget: [...o.children].some((child) => child.classList.contains('jupyter-widgets')),
      }));
    return {type, prompt: prompt ? prompt.textContent.trim() : '', outputs};
  });
  return {
    kernel: indicator ? (indicator.getAttribute('data-status') || '') : '',
    status: (document.querySelector('.jp-StatusBar-Widget') || {}).textContent || '',
    cells,
  };
}
"""


@dataclass
class Output:
    mime: str
    text: str
    widget: bool  # a rendered widget view

    @property
    def is_widget(self) -> bool:
        """A widget output: rendered, still loading, or failed to render."""
        return (
            self.widget
            or self.mime == "application/vnd.jupyter.widget-view+json"
            or self.text.startswith(("Loading widget", "Error displaying widget"))
        )


@dataclass
class Cell:
    type: str
    prompt: str
    outputs: list[Output] = field(default_factory=list)

    @property
    def ran(self) -> bool:
        """True once the cell has an execution count, e.g. ``[3]:``."""
        return self.prompt[1:-2].isdigit() if self.prompt.startswith("[") else False

    @property
    def running(self) -> bool:
        return self.prompt.startswith("[*]")


class NotebookPage:
    """One notebook open in JupyterLab, driven the way a learner drives it."""

    def __init__(self, page, lab: JupyterLab, name: str):
        self.page, self.lab, self.name = page, lab, name

    # -- reading --------------------------------------------------------------------------

    def cells(self) -> list[Cell]:
        data = self.page.evaluate(_SNAPSHOT_JS)
        if not data:
            return []
        return [
            Cell(c["type"], c["prompt"], [Output(**o) for o in c["outputs"]]) for c in data["cells"]
        ]

    def cell(self, index: int):
        """The DOM element of cell ``index`` (a Playwright locator)."""
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(
            index
        )

    # -- opening and running --------------------------------------------------------------

    def open(self, timeout: float = 60) -> NotebookPage:
        self.page.goto(self.lab.page_url(self.name), timeout=timeout * 1000)
        self.page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=timeout * 1000)
        # Wait for the kernel to be ready: the status bar names it and says Idle.
        wait_until(
            "the notebook's kernel to start",
            lambda: "Idle" in (self.page.locator(".jp-StatusBar-Widget").first.inner_text() or ""),
            timeout,
        )
        self._hide_file_browser()
        return self

    def _hide_file_browser(self) -> None:
        # ?reset opens the file browser; the screenshots read better without it.
        left = self.page.locator("#jp-left-stack")
        if left.count() and left.is_visible():
            self.page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").first.click()

    def menu(self, menu: str, item: str) -> None:
        """Click ``menu`` in the menu bar, then the item whose label starts with ``item``."""
        self.page.locator(".lm-MenuBar-item", has_text=menu).first.click()
        entry = self.page.locator(
            ".lm-Menu .lm-Menu-item:not(.lm-mod-disabled)", has_text=item
        ).first
        entry.click()

    def restart_and_run_all(self, raises: list[bool], timeout: float = 120) -> list[Cell]:
        """Clear every output, then Kernel > Restart Kernel and Run All Cells; wait for the end.

        ``raises[i]`` says whether cell ``i`` is tagged ``raises-exception``.  Returns the
        cells once every code cell has run, or once a cell not so tagged showed an error
        (the kernel then skips the rest) and nothing is running any more.
        """
        self.menu("Edit", "Clear Outputs of All Cells")
        wait_until(
            "the outputs to clear",
            lambda: all(not c.outputs and not c.ran for c in self.cells() if c.type == "code"),
            10,
        )
        self.menu("Kernel", "Restart Kernel and Run All Cells")
        self.restart_dialogs = 0
        confirm = self.page.locator(".jp-Dialog .jp-mod-accept")

        def started():
            # The course's settings turn the "Restart Kernel?" dialog off; a learner
            # without them sees it, and confirms it.
            if confirm.count() and confirm.first.is_visible():
                confirm.first.click()
                self.restart_dialogs += 1
            return any(c.ran or c.running for c in self.cells() if c.type == "code")

        wait_until("Run All to start", started, 30)

        # Not "no cell shows [*]": when a cell tagged raises-exception fails, JupyterLab
        # blanks the prompts of the cells still queued although the kernel goes on
        # running them (they get their numbers as they finish).  So wait for every
        # number, unless an untagged error really stopped the run.
        def finished():
            cells = self.wait_until_idle(timeout)
            code = [(i, c) for i, c in enumerate(cells) if c.type == "code"]
            if all(c.ran for _, c in code):
                return cells
            stopped = any(
                o.mime == "application/vnd.jupyter.stderr" and not (i < len(raises) and raises[i])
                for i, c in code
                for o in c.outputs
            )
            waiting = [i + 1 for i, c in code if not c.ran]
            assert stopped, f"cells {waiting} have no execution count yet"
            return cells

        try:
            return wait_until("every cell to run", finished, timeout, every=0.2)
        except TimeoutError:
            return self.cells()  # the caller reports which cells never ran

    def wait_until_idle(self, timeout: float = 120) -> list[Cell]:
        """Wait until no cell is queued or running and the kernel is idle."""

        def done():
            cells = self.cells()
            busy = [i for i, c in enumerate(cells) if c.running]
            assert not busy, f"cells still running or queued: {busy}"
            status = self.page.locator(".jp-StatusBar-Widget").first.inner_text()
            assert "Idle" in status, f"status bar says {status!r}"
            return cells

        return wait_until("every cell to finish", done, timeout, every=0.2)

    def wait_for_widgets(self, timeout: float = 10) -> list[Cell]:
        """Wait (at most ``timeout``) until no widget output says "Loading widget...".

        Returns the cells either way: a widget still loading then is a finding to report.
        """

        def loaded():
            cells = self.cells()
            return (
                cells
                if not any("Loading widget" in o.text for c in cells for o in c.outputs)
                else None
            )

        try:
            return wait_until("widgets to render", loaded, timeout)
        except TimeoutError:
            return self.cells()

    # -- adding cells, like a learner ---------------------------------------------------

    def run_new_cell(self, code: str, timeout: float = 30, wait: bool = True) -> int:
        """Add a code cell at the end, type ``code``, Shift+Enter; return its index.

        Waits until the cell has run (an execution count, kernel idle), unless ``wait``
        is false: then call :meth:`wait_for_cell` later.
        """
        count = len(self.cells())
        last = self.cell(count - 1)
        last.locator(".jp-Cell-inputWrapper").first.scroll_into_view_if_needed()
        # Clicking the prompt selects the cell in command mode; "b" adds a cell below.
        last.locator(".jp-InputPrompt").first.click()
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("b")
        wait_until("the new cell", lambda: len(self.cells()) == count + 1, 10)
        self.page.keyboard.press("Enter")  # edit mode
        # insert_text types the code as one input, so the editor does not auto-indent
        # or auto-close brackets while it arrives.
        self.page.keyboard.insert_text(code)
        self.page.keyboard.press("Shift+Enter")
        if wait:
            self.wait_for_cell(count, timeout)
        return count

    def wait_for_cell(self, index: int, timeout: float = 30) -> None:
        """Wait until cell ``index`` has run and the kernel is idle."""

        def ran():
            cells = self.wait_until_idle(timeout)
            assert cells[index].ran, f"cell {index + 1} prompt is {cells[index].prompt!r}"
            return True

        wait_until(f"cell {index + 1} to run", ran, timeout)

    def outputs_text(self, index: int) -> str:
        return "\n".join(o.text for o in self.cells()[index].outputs)

    # -- pictures -------------------------------------------------------------------------

    def screenshot(self, folder: Path, stem: str, max_height: int = 15000) -> list[Path]:
        """Save the whole notebook as one tall picture (or a few, for a very long one).

        The notebook scrolls inside its own panel, so a plain full-page screenshot shows
        only the first screen: make the window as tall as the notebook, then take the
        notebook panel.
        """
        folder.mkdir(parents=True, exist_ok=True)
        page = self.page
        width = page.viewport_size["width"]
        base_height = page.viewport_size["height"]
        scroller = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer"
        # The notebook's height up to the end of its last cell (JupyterLab adds empty
        # room after it so the last cell can scroll to the top; leave that out).
        sizes = page.evaluate(
            """(s) => {
              const e = document.querySelector(s);
              if (!e) return null;
              const cells = e.querySelectorAll('.jp-Cell');
              const last = cells[cells.length - 1];
              const end = last
                ? last.getBoundingClientRect().bottom - e.getBoundingClientRect().top + e.scrollTop + 24
                : e.scrollHeight;
              return [Math.min(Math.ceil(end), e.scrollHeight), e.clientHeight];
            }""",
            scroller,
        )
        panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first
        paths: list[Path] = []
        if not sizes:
            path = folder / f"{stem}.png"
            page.screenshot(path=str(path))
            return [path]
        content, visible = sizes
        chrome = base_height - visible
        try:
            height = min(content + chrome, max_height)
            page.set_viewport_size({"width": width, "height": height})
            wait_until(
                "the notebook to grow",
                lambda: (
                    page.evaluate("(s) => document.querySelector(s).clientHeight", scroller)
                    >= height - chrome - 2
                ),
                5,
            )
            page_height = height - chrome
            parts = max(1, -(-content // page_height))
            for part in range(parts):
                page.evaluate(
                    "([s, y]) => { document.querySelector(s).scrollTop = y }",
                    [scroller, part * page_height],
                )
                name = f"{stem}.png" if parts == 1 else f"{stem}-{part + 1}.png"
                path = folder / name
                panel.screenshot(path=str(path))
                paths.append(path)
        finally:
            page.set_viewport_size({"width": width, "height": base_height})
            page.evaluate(
                "(s) => { const e = document.querySelector(s); if (e) e.scrollTop = 0 }", scroller
            )
        return paths
