"""A switch that turns Linux-only socket behaviours off, to prove the course needs none.

The course is built and tested on Linux, but most learners run it on macOS or Windows.
Set the environment variable ``TCPLESSONS_PORTABLE`` before Python starts (the test
suite, or a notebook kernel, inherits it) and ``import tcplessons`` makes every socket
in the process behave like the weakest of the three systems where they differ::

    TCPLESSONS_PORTABLE=1 pytest tests/ notebooks/

What changes, for every socket (the course's and the notebook's own):

- ``shutdown()`` wakes no other thread: ``SHUT_RD`` does nothing and ``SHUT_RDWR``
  only sends the end-of-stream (``SHUT_WR``), so a ``recv()`` blocked in another thread
  stays blocked, as on Windows;
- ``shutdown()`` of a listening socket raises ``OSError`` (``ENOTCONN``), as on macOS;
- ``getsockname()`` of a socket that is not bound yet raises ``OSError`` (``EINVAL``),
  as on Windows (WinError 10022);
- there are no backlog readings: ``getsockopt(IPPROTO_TCP, TCP_INFO)`` raises, so
  ``Server.waiting()`` answers None, as on macOS and Windows;
- ``select.select()`` with no sockets at all (a sleep, on Linux) raises ``OSError``, and
  ``SO_RCVLOWAT`` cannot be set, as on Windows;
- send and receive buffer sizes are not what a cell asks for: with
  ``TCPLESSONS_PORTABLE=small`` every ``SO_SNDBUF``/``SO_RCVBUF`` request gets
  :data:`SMALL_BUFFER` bytes, with ``1`` (or ``large``) requests are ignored and the
  system's own, growing, buffers stay (many megabytes on a fast machine).

The values ``0``, ``no`` or an empty string leave everything as it is.  :func:`install`
and :func:`uninstall` do the same from Python (the tests use them).
"""

from __future__ import annotations

import errno
import os
import select
import socket

__all__: list = []

#: The environment variable that turns the switch on.
ENVIRONMENT_VARIABLE = "TCPLESSONS_PORTABLE"
#: Bytes every buffer request gets in the "small" mode.
SMALL_BUFFER = 4096

_real: dict[str, object] = {}
_mode: str | None = None


def mode_from_environment() -> str | None:
    """``"small"`` or ``"large"`` if the switch is on, None if not."""
    value = os.environ.get(ENVIRONMENT_VARIABLE, "").strip().lower()
    if value in ("", "0", "no", "off", "false"):
        return None
    return "small" if value == "small" else "large"


def active() -> str | None:
    """The mode installed in this process (``"small"``/``"large"``), or None."""
    return _mode


def install(mode: str = "large") -> None:
    """Make every socket in this process behave as described in this module's docstring."""
    global _mode
    if mode not in ("small", "large"):
        raise ValueError(f"mode is 'small' or 'large', not {mode!r}")
    if not _real:
        for name in ("shutdown", "getsockname", "getsockopt", "setsockopt"):
            _real[name] = getattr(socket.socket, name)
        socket.socket.shutdown = _shutdown
        socket.socket.getsockname = _getsockname
        socket.socket.getsockopt = _getsockopt
        socket.socket.setsockopt = _setsockopt
        _real["select"] = select.select
        select.select = _select
    _mode = mode


def uninstall() -> None:
    """Give every socket its own system's behaviour back."""
    global _mode
    for name, method in _real.items():
        setattr(select if name == "select" else socket.socket, name, method)
    _real.clear()
    _mode = None


def install_from_environment() -> None:
    mode = mode_from_environment()
    if mode is not None:
        install(mode)


# -- the replacements ---------------------------------------------------------------------


def _is_listening(sock: socket.socket) -> bool:
    try:
        return bool(_real["getsockopt"](sock, socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
    except (OSError, AttributeError):
        return False


def _shutdown(self: socket.socket, how: int) -> None:
    if _is_listening(self):
        raise OSError(errno.ENOTCONN, os.strerror(errno.ENOTCONN))
    if how in (socket.SHUT_WR, socket.SHUT_RDWR):
        _real["shutdown"](self, socket.SHUT_WR)
    elif how != socket.SHUT_RD:
        _real["shutdown"](self, how)  # let the system reject a bad value


def _getsockname(self: socket.socket):
    address = _real["getsockname"](self)
    if self.family in (socket.AF_INET, socket.AF_INET6) and address[1] == 0:
        raise OSError(errno.EINVAL, "Invalid argument")
    return address


def _getsockopt(self: socket.socket, level: int, option: int, *rest):
    if level == socket.IPPROTO_TCP and option == getattr(socket, "TCP_INFO", None):
        raise OSError(errno.ENOPROTOOPT, os.strerror(errno.ENOPROTOOPT))
    return _real["getsockopt"](self, level, option, *rest)


def _select(readers, writers, errors, *timeout):
    if not readers and not writers and not errors:
        raise OSError(errno.EINVAL, "Invalid argument")  # WinError 10022 on Windows
    return _real["select"](readers, writers, errors, *timeout)


def _setsockopt(self: socket.socket, level: int, option: int, *rest):
    if level == socket.SOL_SOCKET and option == getattr(socket, "SO_RCVLOWAT", None):
        raise OSError(errno.ENOPROTOOPT, os.strerror(errno.ENOPROTOOPT))
    if level == socket.SOL_SOCKET and option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
        if _mode == "large":
            return None  # the system's own buffers stay
        return _real["setsockopt"](self, level, option, SMALL_BUFFER)
    return _real["setsockopt"](self, level, option, *rest)
