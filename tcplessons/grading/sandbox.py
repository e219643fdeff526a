"""The sandbox each worker runs in: bubblewrap (``bwrap``), as Flatpak uses it.

Inside, the whole file system is read-only; the instructor's home, the grader's working
folder, every submission folder named on the command line, the ``--checks`` folder and
the gradebook's folder are hidden behind empty read-only folders; ``/tmp`` is a private,
empty one; only this submission's own job folder (its copy of the notebook's folder,
its home, its kernels' answers) is writable, and
the Python installation and the tcplessons package are visible read-only.  The network
namespace is new (only loopback, which bwrap brings up: the exercises need 127.0.0.1),
and so is the PID namespace: when the worker ends, every process it left ends too.  It
has no capabilities, even if the grader runs as root.

:func:`choose` decides once per run: ``auto`` uses bwrap where it works and says once on
stderr when it does not; ``require`` refuses to grade without it; ``off`` never uses it.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = ["SandboxUnavailable", "bwrap_command", "choose", "probe"]

MODES = ("auto", "require", "off")
#: Folders a sandbox never hides (the system and Python itself live there).
SYSTEM = {"/", "/usr", "/bin", "/lib", "/lib64", "/etc", "/opt", "/proc", "/dev", "/sys", "/var"}


class SandboxUnavailable(Exception):
    """``--sandbox=require`` where bwrap is missing or cannot create namespaces."""


def _namespaces() -> list[str]:
    return ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent"]


#: Every sandbox starts from this: the whole file system read-only, its own /proc and /dev.
_READ_ONLY_SYSTEM = ["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]


@functools.lru_cache(maxsize=1)
def probe() -> str:
    """Why bwrap cannot sandbox here, or "" when it can (tried once per run)."""
    if not sys.platform.startswith("linux"):
        return "the sandbox (bubblewrap) needs Linux"
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return "bwrap (Debian's bubblewrap) is not installed"
    command = [bwrap, *_READ_ONLY_SYSTEM, *_namespaces(), "true"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not be run ({exc})"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return f"bwrap cannot create namespaces here ({last})"
    return ""


def choose(mode: str, warn) -> str:
    """``"bwrap"`` or ``"off"``: how this run grades.  ``warn(text)`` is told once why not."""
    if mode == "off":
        return "off"
    why = probe()
    if not why:
        return "bwrap"
    if mode == "require":
        raise SandboxUnavailable(f"--sandbox=require, but {why}")
    warn(f"warning: {why}; grading without a sandbox (--sandbox=off to silence this)")
    return "off"


def _hideable(path: Path) -> bool:
    return str(path) not in SYSTEM and len(path.parts) > 1


def bwrap_command(job_dir: Path, package_dir: Path, hide: Iterable[str]) -> list[str]:
    """The bwrap arguments that run a worker for the job in ``job_dir``.

    ``hide``: the instructor's folders the submission must not see (submission folders,
    the private checks, the gradebook's folder, the grader's temporary folder).
    """
    args = [shutil.which("bwrap") or "bwrap", *_READ_ONLY_SYSTEM]
    hidden: list[Path] = []
    for place in [Path.home(), Path.cwd(), Path("/tmp"), *map(Path, hide)]:
        place = place.resolve()
        if place.is_file():
            args += ["--ro-bind", "/dev/null", str(place)]
        elif place.is_dir() and _hideable(place) and place not in hidden:
            hidden.append(place)
    # Parents first: a hidden folder inside another hidden one is hidden by it anyway.
    for place in sorted(hidden, key=lambda p: len(p.parts)):
        args += ["--tmpfs", str(place)]
    # Then what the worker needs back, read-only: Python, its packages, tcplessons.
    needed = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent}
    needed |= {Path(p) for p in sys.path if p and os.path.isdir(p)}
    for place in sorted(needed, key=lambda p: len(p.parts)):
        place = place.resolve()
        if any(place == h or h in place.parents for h in hidden):
            if (place / "tcplessons").is_dir() and place != package_dir.parent:
                continue
            if place == package_dir.parent:
                place = package_dir  # the repository holding tcplessons: only the package
            args += ["--ro-bind", str(place), str(place)]
    if any(package_dir == h or h in package_dir.parents for h in hidden):
        args += ["--ro-bind", str(package_dir), str(package_dir)]
    args += ["--bind", str(job_dir), str(job_dir), "--chdir", str(job_dir)]
    for place in hidden:  # empty and read-only: writing there fails; /tmp stays private scratch
        if place != Path("/tmp"):
            args += ["--remount-ro", str(place)]
    args += ["--setenv", "HOME", str(job_dir / "home"), "--setenv", "TMPDIR", str(job_dir / "tmp")]
    # No capabilities, even when the grader runs as root: nothing can be remounted writable.
    args += [*_namespaces(), "--cap-drop", "ALL", "--new-session", "--"]
    return args
