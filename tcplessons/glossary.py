"""The course's error glossary: every socket error a learner meets, once, as data.

Each :class:`GlossaryEntry` names the Python class, the errno name, the exact text the
error shows on Linux, macOS and Windows, what it means in the course's two pictures (a
listener is a doorbell, a connection is a phone call) and the lesson that explains it.

This one table drives :func:`tcplessons.explain`, the extra line the exception hook adds
under a socket error (:func:`tcplessons.explain_errors`) and lesson 09's glossary
(:func:`error_glossary`).  To find the entry for an exception, call :func:`entry_for`.

Where the texts come from: Linux's are glibc's ``strerror``; macOS's are its libc's
``strerror`` (the comments of ``<errno.h>``, without the full stop); Windows's are the
system's ``FormatMessage`` texts for the Winsock codes, which Python shows after
``[WinError N]`` with the trailing full stop removed.
"""

from __future__ import annotations

import errno
import html
import socket
from dataclasses import dataclass

__all__ = ["GlossaryEntry", "GLOSSARY", "entry_for", "error_glossary"]


@dataclass(frozen=True)
class GlossaryEntry:
    """One error of the glossary; ``meaning`` fits on one line under a traceback."""

    key: str
    python_class: str
    errno_name: str  # "" when the exception carries no errno
    linux: str
    macos: str
    windows: str
    meaning: str
    lesson: str  # the lesson's file name without .ipynb
    #: errno names that select this entry (Windows spells some differently)
    errno_names: tuple[str, ...] = ()

    def line(self) -> str:
        """The one line the exception hook prints under a traceback."""
        return f"[tcplessons] {self.python_class}: {self.meaning} (lesson {self.lesson})"

    def text(self) -> str:
        """Every field, one per line: what :func:`tcplessons.explain` returns."""
        return "\n".join(
            [
                f"{self.python_class} ({self.errno_name or 'no errno'})",
                f"  means:   {self.meaning}",
                f"  Linux:   {self.linux}",
                f"  macOS:   {self.macos}",
                f"  Windows: {self.windows}",
                f"  lesson:  {self.lesson}",
            ]
        )


GLOSSARY: tuple[GlossaryEntry, ...] = (
    GlossaryEntry(
        "refused",
        "ConnectionRefusedError",
        "ECONNREFUSED",
        "[Errno 111] Connection refused",
        "[Errno 61] Connection refused",
        "[WinError 10061] No connection could be made because the target machine "
        "actively refused it",
        "nobody listens at that address: you rang a door that has no doorbell",
        "01-doorbell-listener",
        ("ECONNREFUSED",),
    ),
    GlossaryEntry(
        "address-in-use",
        "OSError",
        "EADDRINUSE",
        "[Errno 98] Address already in use",
        "[Errno 48] Address already in use",
        "[WinError 10048] Only one usage of each socket address "
        "(protocol/network address/port) is normally permitted",
        "that door already has a doorbell (another listener, or the records of recent calls)",
        "01-doorbell-listener",
        ("EADDRINUSE",),
    ),
    GlossaryEntry(
        "cannot-assign",
        "OSError",
        "EADDRNOTAVAIL",
        "[Errno 99] Cannot assign requested address",
        "[Errno 49] Can't assign requested address",
        "[WinError 10049] The requested address is not valid in its context",
        "this computer has no such address: a doorbell goes on one of your own doors",
        "09-out-in-the-world",
        ("EADDRNOTAVAIL",),
    ),
    GlossaryEntry(
        "low-port",
        "PermissionError",
        "EACCES",
        "[Errno 13] Permission denied",
        "[Errno 13] Permission denied",
        "[WinError 10013] An attempt was made to access a socket in a way forbidden by "
        "its access permissions",
        "ports below 1024 are for the administrator; use port 0 and let the system pick",
        "09-out-in-the-world",
        ("EACCES",),
    ),
    GlossaryEntry(
        "reset",
        "ConnectionResetError",
        "ECONNRESET",
        "[Errno 104] Connection reset by peer",
        "[Errno 54] Connection reset by peer",
        "[WinError 10054] An existing connection was forcibly closed by the remote host",
        "the other side cut the call (a reset, RST) instead of hanging up politely (FIN)",
        "09-out-in-the-world",
        ("ECONNRESET",),
    ),
    GlossaryEntry(
        "broken-pipe",
        "BrokenPipeError",
        "EPIPE",
        "[Errno 32] Broken pipe",
        "[Errno 32] Broken pipe",
        "(no EPIPE) ConnectionAbortedError [WinError 10053] or ConnectionResetError "
        "[WinError 10054]",
        "you kept talking after the other side hung up: the line is dead",
        "06-chat-room",
        ("EPIPE",),
    ),
    GlossaryEntry(
        "aborted",
        "ConnectionAbortedError",
        "ECONNABORTED",
        "[Errno 103] Software caused connection abort",
        "[Errno 53] Software caused connection abort",
        "[WinError 10053] An established connection was aborted by the software in your "
        "host machine",
        "your own computer ended the call (on Windows: you talked after the other side hung up)",
        "09-out-in-the-world",
        ("ECONNABORTED",),
    ),
    GlossaryEntry(
        "timeout",
        "TimeoutError",
        "",
        "timed out",
        "timed out",
        "timed out",
        "nothing happened within the time set by settimeout(); the call itself may be fine",
        "09-out-in-the-world",
    ),
    GlossaryEntry(
        "os-timeout",
        "TimeoutError",
        "ETIMEDOUT",
        "[Errno 110] Connection timed out",
        "[Errno 60] Operation timed out",
        "[WinError 10060] A connection attempt failed because the connected party did not "
        "properly respond after a period of time, or established connection failed because "
        "connected host has failed to respond",
        "the system gave up: nobody picked up, not even to say no",
        "09-out-in-the-world",
        ("ETIMEDOUT",),
    ),
    GlossaryEntry(
        "not-connected",
        "OSError",
        "ENOTCONN",
        "[Errno 107] Transport endpoint is not connected",
        "[Errno 57] Socket is not connected",
        "[WinError 10057] A request to send or receive data was disallowed because the socket "
        "is not connected and (when sending on a datagram socket using a sendto call) no "
        "address was supplied",
        "there is no call on this socket: it never connected, or it is a doorbell",
        "09-out-in-the-world",
        ("ENOTCONN",),
    ),
    GlossaryEntry(
        "bad-descriptor",
        "OSError",
        "EBADF",
        "[Errno 9] Bad file descriptor",
        "[Errno 9] Bad file descriptor",
        "[WinError 10038] An operation was attempted on something that is not a socket",
        "this socket was closed: hung up and put away; make a new one",
        "02-phone-call-stream",
        ("EBADF", "ENOTSOCK"),
    ),
    GlossaryEntry(
        "would-block",
        "BlockingIOError",
        "EAGAIN",
        "[Errno 11] Resource temporarily unavailable",
        "[Errno 35] Resource temporarily unavailable",
        "[WinError 10035] A non-blocking socket operation could not be completed immediately",
        "nothing ready on a non-blocking socket (no caller, no data, no room): retry when "
        "select() says so",
        "07-event-loop",
        ("EAGAIN", "EWOULDBLOCK"),
    ),
    GlossaryEntry(
        "in-progress",
        "BlockingIOError",
        "EINPROGRESS",
        "[Errno 115] Operation now in progress",
        "[Errno 36] Operation now in progress",
        "[WinError 10035] A non-blocking socket operation could not be completed immediately",
        "a non-blocking connect() has started dialling; wait until the socket is writable",
        "07-event-loop",
        ("EINPROGRESS",),
    ),
    GlossaryEntry(
        "unreachable",
        "OSError",
        "ENETUNREACH",
        "[Errno 101] Network is unreachable",
        "[Errno 51] Network is unreachable",
        "[WinError 10051] A socket operation was attempted to an unreachable network",
        "no road leads from here to that address (often: this computer has no IPv6)",
        "09-out-in-the-world",
        ("ENETUNREACH",),
    ),
    GlossaryEntry(
        "unknown-name",
        "socket.gaierror",
        "EAI_NONAME",
        "[Errno -2] Name or service not known",
        "[Errno 8] nodename nor servname provided, or not known",
        "[Errno 11001] getaddrinfo failed",
        "no address found for that name: unknown or misspelt, or (with AI_NUMERICHOST) not "
        "a numeric address",
        "09-out-in-the-world",
    ),
    GlossaryEntry(
        "address-family",
        "socket.gaierror",
        "EAI_ADDRFAMILY",
        "[Errno -9] Address family for hostname not supported",
        "[Errno 8] nodename nor servname provided, or not known",
        "[Errno 11001] getaddrinfo failed",
        "an address of the other family: ::1 needs an AF_INET6 socket, 127.0.0.1 an AF_INET one",
        "09-out-in-the-world",
    ),
)

#: getaddrinfo's error numbers that mean "wrong address family" (not every system has both).
_FAMILY_GAI_ERRORS = {
    getattr(socket, name) for name in ("EAI_ADDRFAMILY", "EAI_FAMILY") if hasattr(socket, name)
}


def _errno_values(names: tuple[str, ...]) -> set:
    """The numbers these errno names have here (Windows also has a ``WSA`` spelling)."""
    values = set()
    for name in names:
        for spelling in (name, "WSA" + name):
            value = getattr(errno, spelling, None)
            if isinstance(value, int):
                values.add(value)
    return values


def entry_for(exc: BaseException) -> GlossaryEntry | None:
    """The glossary entry for ``exc``, or None when it is not a socket error we explain.

    Errors about files (an ``OSError`` carrying a file name) are not socket errors, even
    when their errno matches (``PermissionError`` opening a file, say).
    """
    if not isinstance(exc, OSError) or getattr(exc, "filename", None) is not None:
        return None
    by_key = {entry.key: entry for entry in GLOSSARY}
    if isinstance(exc, socket.gaierror):  # by its number: "no such name" is not the only one
        if exc.errno in _FAMILY_GAI_ERRORS:
            return by_key["address-family"]
        return by_key["unknown-name"]
    if isinstance(exc, TimeoutError) and exc.errno is None:
        return by_key["timeout"]
    if exc.errno is None:
        return None
    for entry in GLOSSARY:
        if entry.errno_names and exc.errno in _errno_values(entry.errno_names):
            return entry
    return None


class Glossary:
    """The whole glossary as a table: HTML in a notebook, aligned text elsewhere."""

    def __repr__(self) -> str:
        blocks = [entry.text() for entry in GLOSSARY]
        return "\n\n".join(blocks)

    def _repr_html_(self) -> str:
        head = ["Python class", "errno", "Linux", "macOS", "Windows", "what it means", "lesson"]
        rows = []
        for e in GLOSSARY:
            cells = [
                e.python_class,
                e.errno_name or "(none)",
                e.linux,
                e.macos,
                e.windows,
                e.meaning,
                e.lesson,
            ]
            rows.append(
                "<tr>"
                + "".join(f"<td style='text-align:left'>{html.escape(c)}</td>" for c in cells)
                + "</tr>"
            )
        header = "".join(f"<th style='text-align:left'>{h}</th>" for h in head)
        return (
            "<table class='tcplessons-glossary'><thead><tr>"
            + header
            + "</tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table>"
        )


def error_glossary() -> Glossary:
    """The error glossary, to display in a notebook (lesson 09 shows it)."""
    return Glossary()
