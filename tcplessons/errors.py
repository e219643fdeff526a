"""Socket errors explained where they happen.

- :func:`explain` returns what an exception means, from the course's glossary
  (:mod:`tcplessons.glossary`): its class, errno name, its text on Linux, macOS and
  Windows, the doorbell/phone-call picture, and the lesson that explains it.  Without an
  argument it explains the last error the notebook showed.
- :func:`explain_errors` turns on (or, with ``False``, off) a small IPython hook: under
  the traceback of a socket error it prints one short line saying what it means and
  which lesson explains it.  The traceback itself is printed exactly as before, and
  errors that are not about sockets are left alone.  Every lesson's first cell calls it.
"""

from __future__ import annotations

import sys

from .glossary import entry_for

__all__ = ["explain", "explain_errors"]


class Explanation(str):
    """Text that shows as itself (no quotes, real line breaks) as a cell's last line."""

    def __repr__(self) -> str:
        return str(self)


def _last_error() -> BaseException | None:
    """The exception the notebook (or the interactive interpreter) showed last."""
    last = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
    if last is None:
        shell = _shell()
        if shell is not None:
            last = getattr(shell, "_last_exception", None)
    return last if isinstance(last, BaseException) else None


def explain(exc: BaseException | None = None) -> Explanation:
    """What ``exc`` means, or the last error shown if ``exc`` is None.

    Returns text (a ``str``); as the last line of a cell it displays itself::

        try:
            socket.create_connection(("127.0.0.1", port))
        except OSError as exc:
            print(tcplessons.explain(exc))

    For an error that is not a socket error the text says so.
    """
    if exc is None:
        exc = _last_error()
        if exc is None:
            return Explanation("No error has been raised yet, so there is nothing to explain.")
    if not isinstance(exc, BaseException):
        raise TypeError(f"explain() needs an exception, got {type(exc).__name__}")
    entry = entry_for(exc)
    shown = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if entry is None:
        return Explanation(
            f"{shown}\nThis is not a socket error the course's glossary covers "
            "(lesson 09-out-in-the-world lists them all)."
        )
    return Explanation(f"{shown}\n{entry.text()}")


# --- the IPython hook ---------------------------------------------------------------------


def _shell():
    """The running IPython shell, or None (plain Python, a script, a test)."""
    module = sys.modules.get("IPython")
    if module is None:
        return None
    try:
        return module.get_ipython()
    except Exception:  # an IPython that cannot say: behave as outside IPython
        return None


def _show_with_explanation(shell, etype, value, tb, tb_offset=None):
    """IPython's custom exception handler: the normal traceback, then one line."""
    # showtraceback() prints the traceback exactly as without the hook, and records the
    # error (sys.last_value) for explain() and %debug.
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    entry = entry_for(value)
    if entry is not None:
        # Printed after the traceback: ipykernel sends the error at once and stdout when
        # it flushes, so the line lands under the traceback in the cell's output.
        print(entry.line())
        sys.stdout.flush()
    return None


def explain_errors(on: bool = True) -> None:
    """Add one explaining line under every socket error's traceback (``False``: stop).

    Only in IPython or Jupyter; elsewhere it does nothing.  The traceback is unchanged,
    and errors that are not about sockets show nothing extra.  ``explain()`` says more
    about the last error.
    """
    shell = _shell()
    if shell is None:
        return None
    if on:
        shell.set_custom_exc((OSError,), _show_with_explanation)
    elif getattr(shell, "custom_exceptions", ()) == (OSError,):
        shell.set_custom_exc((), None)
    return None
