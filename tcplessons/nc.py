"""A tiny ``nc`` for joining the course's servers from a terminal, on any system.

``python -m tcplessons nc HOST PORT`` connects to ``(HOST, PORT)``; what you type goes
to the server line by line, what the server sends is printed.  End of input (Ctrl+D on
macOS and Linux, Ctrl+Z then Enter on Windows) says "I have finished talking":
``shutdown(SHUT_WR)``, like ``nc -N``, so the server reads ``b""`` and may still answer.
It exits when the server hangs up, or on Ctrl+C.

:func:`nc_command` prints the command that works on this computer: the system's own
``nc`` where it half-closes on end of input (``nc -N`` with the OpenBSD ``nc`` of Debian
and Ubuntu; plain ``nc`` on macOS, whose ``-N`` means something else), this module
where there is no such ``nc`` (Windows).
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import sys
import threading
from typing import BinaryIO

__all__: list = []

#: Seconds to wait for the server to answer the doorbell.
CONNECT_TIMEOUT = 10.0

FALLBACK = "python -m tcplessons nc"


@functools.cache
def _system_nc() -> str | None:
    """How to call this system's ``nc`` so that end of input half-closes; None if no
    ``nc`` here does that for sure."""
    if sys.platform == "win32":
        return None
    path = shutil.which("nc")
    if path is None:
        return None
    if sys.platform == "darwin":
        return "nc"  # Apple's nc shuts down its sending side at end of input by itself
    try:
        helped = subprocess.run(
            [path, "-h"], capture_output=True, timeout=5, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError):
        return None
    usage = (helped.stdout + helped.stderr).decode("utf-8", "replace")
    if "Ncat" in usage:
        return "nc"  # nmap's ncat half-closes at end of input by default
    if "-N" in usage and "EOF" in usage:
        return "nc -N"  # OpenBSD's nc (Debian's netcat-openbsd): -N shuts down on EOF
    return None  # e.g. the traditional netcat: it never half-closes


def nc_command(host: str, port: int) -> str:
    """The terminal command that joins ``(host, port)`` on this computer."""
    return f"{_system_nc() or FALLBACK} {host} {port}"


def run(host: str, port: int, stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Copy ``stdin`` to a connection and the connection to ``stdout``.

    Returns the exit status: 0 once the server hung up, 1 if the connection failed.
    """
    try:
        sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
    except OSError as exc:
        print(f"nc: cannot connect to {host} port {port}: {exc}", file=sys.stderr)
        return 1
    sock.settimeout(None)  # from now on we wait for the person typing and the server
    sender = threading.Thread(target=_send_input, args=(sock, stdin), daemon=True)
    sender.start()
    try:
        while True:
            data = sock.recv(65536)
            if not data:  # the server hung up
                return 0
            stdout.write(data)
            stdout.flush()
    except ConnectionError as exc:
        print(f"nc: the connection broke: {exc}", file=sys.stderr)
        return 1
    finally:
        sock.close()


def _send_input(sock: socket.socket, stdin: BinaryIO) -> None:
    """The other direction, in a thread: every piece of input, then end of input."""
    fileno = _fileno(stdin)
    try:
        while True:
            # os.read returns a typed line as soon as Enter is pressed (and whatever a
            # pipe holds), instead of waiting for a full buffer.
            data = os.read(fileno, 65536) if fileno is not None else stdin.read1(65536)
            if not data:
                sock.shutdown(socket.SHUT_WR)  # "I have finished talking"
                return
            sock.sendall(data)
    except OSError:
        return  # the connection is gone: the main thread reports it


def _fileno(stream: BinaryIO) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def main(host: str, port: int) -> int:
    """``python -m tcplessons nc HOST PORT``."""
    try:
        return run(host, port, sys.stdin.buffer, sys.stdout.buffer)
    except KeyboardInterrupt:
        return 130
