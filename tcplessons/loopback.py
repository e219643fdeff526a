"""Addresses on this computer that behave like the wider world: missing, refusing, silent.

- :func:`has_ipv6_loopback` — whether this computer has the IPv6 loopback address ``::1``.
- :func:`silent_listener` — a listener whose queue is full and that never answers, so a
  ``connect()`` to it waits until its timeout, like one to a computer that is switched
  off.  Where the system refuses such a call instead (Windows does), its ``silent`` is
  False.
- :func:`closed_port` — an address on loopback where nobody listens (connecting is
  refused at once), kept so no other program takes the port meanwhile.

Lesson 09 and the ``connect_first`` checks use them.
"""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["SilentListener", "closed_port", "has_ipv6_loopback", "silent_listener"]

#: How long the probe waits to see that the silent listener really stays silent.  Only
#: used where a refusal comes back at once (not on Windows, which takes about two seconds
#: to refuse and is known to refuse calls to a full queue: it is never probed).
PROBE_TIMEOUT = 0.3
#: Why there is no silent address where the system refuses calls to a full queue.
NOT_SILENT_REASON = (
    "this system refuses a call to a full queue instead of staying silent (Windows does), "
    "so there is no silent address on this computer"
)


def has_ipv6_loopback() -> bool:
    """True if a socket can listen on ``::1`` and be called there (IPv6 loopback works)."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.create_server(("::1", 0), family=socket.AF_INET6) as listener:
            with socket.create_connection(listener.getsockname()[:2], timeout=2):
                return True
    except OSError:
        return False


@dataclass
class SilentListener:
    """A listening socket that never answers: ``address`` is where to (fail to) call.

    ``silent`` is False where this system refuses calls to a full queue instead.
    """

    address: tuple
    family: socket.AddressFamily
    silent: bool = True

    @property
    def why_not_silent(self) -> str:
        """The reason to give when ``silent`` is False (e.g. for a skipped check)."""
        return "" if self.silent else NOT_SILENT_REASON


@contextlib.contextmanager
def silent_listener(host: str = "127.0.0.1") -> Iterator[SilentListener]:
    """A listener on ``host`` with a full queue that never accepts.

    How it works: ``listen(0)`` allows one waiting call; one call fills the queue.  Linux
    and macOS then ignore every new call's first packet (its SYN), so the caller hears
    nothing at all and its ``connect()`` waits until its timeout.  Windows refuses such
    calls instead, after about two seconds: there the listener's ``silent`` is False
    without probing (a short probe would mistake that slow refusal for silence).
    Elsewhere one probe call checks it: refused or answered means ``silent`` is False.
    Everything is closed afterwards.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    opened: list[socket.socket] = []
    try:
        listener = socket.socket(family, socket.SOCK_STREAM)
        opened.append(listener)
        listener.bind((host, 0))
        listener.listen(0)
        address = listener.getsockname()
        filler = socket.socket(family, socket.SOCK_STREAM)
        opened.append(filler)
        filler.settimeout(2)
        filler.connect(address)  # queued: the one call listen(0) lets wait
        if sys.platform == "win32":
            yield SilentListener(address, family, silent=False)
            return
        probe = socket.socket(family, socket.SOCK_STREAM)
        opened.append(probe)
        probe.settimeout(PROBE_TIMEOUT)
        try:
            probe.connect(address)
        except TimeoutError:
            silent = True  # the probe heard nothing
        except OSError:
            silent = False  # refused: this system answers a full queue
        else:
            silent = False  # answered: the queue was not full after all
        yield SilentListener(address, family, silent)
    finally:
        for sock in reversed(opened):
            sock.close()


@contextlib.contextmanager
def closed_port(host: str = "127.0.0.1") -> Iterator[tuple]:
    """An address on ``host`` where nobody listens: a call there is refused (at once on
    Linux and macOS, after about two seconds on Windows: give such calls a timeout well
    above that, e.g. 5 s, or accept "timed out" as well).

    The port is bound (not listening) for as long as the block runs, so no other
    program can start listening there meanwhile.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as holder:
        holder.bind((host, 0))
        yield holder.getsockname()
