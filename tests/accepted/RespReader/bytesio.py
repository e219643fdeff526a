# Reads with io.BytesIO's readline() and read(); rewinds when a command is not complete.
import io
import re

DIGITS = re.compile(rb"0|-?[1-9][0-9]*")


class Incomplete(Exception):
    pass


class RespReader:
    def __init__(self):
        self.pending = b""

    def feed(self, data):
        if not data:
            unfinished, self.pending = self.pending, b""
            if unfinished:
                raise EOFError("hung up mid-command")
            return []
        stream = io.BytesIO(self.pending + data)
        commands = []
        while True:
            start = stream.tell()
            try:
                command = self.read_command(stream)
            except Incomplete:
                stream.seek(start)
                self.pending = stream.read()
                return commands
            if command:
                commands.append(command)

    def read_line(self, stream, what):
        line = stream.readline()
        if not line.endswith(b"\n"):
            if len(line) > 64 * 1024:
                raise ValueError(f"Protocol error: too big {what}")
            raise Incomplete
        return line

    def read_command(self, stream):
        first = stream.read(1)
        if not first:
            raise Incomplete
        if first != b"*":
            return (first + self.read_line(stream, "inline request")).rstrip(b"\r\n").split()
        count = self.read_line(stream, "mbulk count string").removesuffix(b"\r\n")
        if not DIGITS.fullmatch(count):
            raise ValueError("Protocol error: invalid multibulk length")
        args = []
        for _ in range(int(count)):
            kind = stream.read(1)
            if not kind:
                raise Incomplete
            if kind != b"$":
                raise ValueError(f"Protocol error: expected '$', got '{kind.decode('latin-1')}'")
            size = self.read_line(stream, "bulk count string").removesuffix(b"\r\n")
            if not DIGITS.fullmatch(size) or not 0 <= int(size) <= 512 * 1024 * 1024:
                raise ValueError("Protocol error: invalid bulk length")
            payload = stream.read(int(size) + 2)
            if len(payload) < int(size) + 2:
                raise Incomplete
            args.append(payload[:-2])
        return args
