# A generator per command: it asks for the bytes it needs with `yield`, so the reader
# never parses the same bytes twice.
import re

DIGITS = re.compile(rb"0|-?[1-9][0-9]*")


class RespReader:
    def __init__(self):
        self.buffer = b""
        self.parser = None

    def line(self, what):
        while True:
            end = self.buffer.find(b"\r\n")
            if end >= 0:
                line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
                return line
            if len(self.buffer) > 64 * 1024:
                raise ValueError(f"Protocol error: too big {what}")
            yield

    def command(self):
        if not self.buffer.startswith(b"*"):
            while b"\n" not in self.buffer:
                if len(self.buffer) > 64 * 1024:
                    raise ValueError("Protocol error: too big inline request")
                yield
            line, self.buffer = self.buffer.split(b"\n", 1)
            return line.rstrip(b"\r").split()
        header = yield from self.line("mbulk count string")
        if not DIGITS.fullmatch(header[1:]):
            raise ValueError("Protocol error: invalid multibulk length")
        args = []
        for _ in range(int(header[1:])):
            while not self.buffer:
                yield
            if self.buffer[:1] != b"$":
                raise ValueError(
                    f"Protocol error: expected '$', got '{self.buffer[:1].decode('latin-1')}'"
                )
            header = yield from self.line("bulk count string")
            if not DIGITS.fullmatch(header[1:]) or not 0 <= int(header[1:]) <= 512 * 1024 * 1024:
                raise ValueError("Protocol error: invalid bulk length")
            size = int(header[1:])
            while len(self.buffer) < size + 2:
                yield
            args.append(self.buffer[:size])
            self.buffer = self.buffer[size + 2 :]
        return args

    def feed(self, data):
        if not data:
            if self.parser is not None or self.buffer:
                self.parser, self.buffer = None, b""
                raise EOFError("hung up mid-command")
            return []
        self.buffer += data
        commands = []
        while self.buffer:
            if self.parser is None:
                self.parser = self.command()
            try:
                next(self.parser)
                return commands  # waiting for more bytes
            except StopIteration as done:
                self.parser = None
                if done.value:
                    commands.append(done.value)
        return commands
