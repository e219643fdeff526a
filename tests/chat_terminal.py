"""A terminal chat program (real ``nc`` or ``python -m tcplessons nc``) run as a process
and joined to the course's chat server, the way a learner uses one: type into its stdin,
read the lines it prints.  Every read is bounded."""

import os
import select
import subprocess
import time


class ChatTerminal:
    """``command`` (an argument list) started, and joined to the chat as ``name``.

    ``name=None`` stops after the welcome line, for tests that type the name themselves.
    """

    def __init__(self, command, name=None, *, timeout=5.0, cwd=None):
        self.timeout = timeout
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
        )
        self.out = b""
        assert self.line() == b"* welcome: type your name and press Enter"
        if name is not None:
            self.type(name.encode() + b"\n")
            assert self.line() == f"* welcome, {name}!".encode()

    def type(self, data: bytes):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def line(self):
        """The next line the program printed (bytes, without the newline); None once it
        exits."""
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self.out:
            left = deadline - time.monotonic()
            assert left > 0, f"no whole line printed in time; so far {self.out[:200]!r}"
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                data = os.read(self.proc.stdout.fileno(), 65536)
                if not data:
                    return None
                self.out += data
        line, self.out = self.out.split(b"\n", 1)
        return line

    def hang_up(self):
        self.proc.terminate()  # the program exits; the kernel closes its socket (a FIN)
        self.proc.wait(self.timeout)
        self.close()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(self.timeout)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                pipe.close()
            except OSError:
                pass
