# Raises its own exception class, not a ValueError: the server would not catch it.
EXPECT = "raise ValueError, or a subclass of it"


class ProtocolError(Exception):
    pass


MAX_BULK = 512 * 1024 * 1024
MAX_INLINE = 64 * 1024


def parse_length(raw, what):
    text = raw
    if text.startswith(b"-"):
        text = text[1:]
    ok = text.isdigit() and (text == b"0" or not text.startswith(b"0")) and raw != b"-0"
    if not ok:
        raise ProtocolError(f"Protocol error: invalid {what} length")
    return int(raw)


class RespReader:
    def __init__(self):
        self.buffer = b""
        self.pos = 0
        self.args = None
        self.left = 0

    def feed(self, data):
        if not data:
            if self.args is not None or self.pos < len(self.buffer):
                raise EOFError("the client hung up in the middle of a command")
            return []
        self.buffer = self.buffer[self.pos :] + data
        self.pos = 0
        commands = []
        while True:
            command = self._one()
            if command is None:
                break
            if command:
                commands.append(command)
        return commands

    def _line(self, limit_message):
        end = self.buffer.find(b"\r\n", self.pos)
        if end < 0:
            if len(self.buffer) - self.pos > MAX_INLINE:
                raise ProtocolError(f"Protocol error: {limit_message}")
            return None
        line = self.buffer[self.pos : end]
        self.pos = end + 2
        return line

    def _one(self):
        """One command, [] for no command, None when more bytes are needed."""
        if self.args is None:
            if self.pos >= len(self.buffer):
                return None
            if self.buffer[self.pos : self.pos + 1] != b"*":
                end = self.buffer.find(b"\n", self.pos)
                if end < 0:
                    if len(self.buffer) - self.pos > MAX_INLINE:
                        raise ProtocolError("Protocol error: too big inline request")
                    return None
                if end - self.pos > MAX_INLINE:
                    raise ProtocolError("Protocol error: too big inline request")
                line = self.buffer[self.pos : end]
                self.pos = end + 1
                if line.endswith(b"\r"):
                    line = line[:-1]
                return line.replace(b"\t", b" ").split(b" ") and [
                    w for w in line.replace(b"\t", b" ").split(b" ") if w
                ]
            line = self._line("too big mbulk count string")
            if line is None:
                return None
            count = parse_length(line[1:], "multibulk")
            if count <= 0:
                return []
            self.args, self.left = [], count
        while self.left:
            if self.pos >= len(self.buffer):
                return None
            if self.buffer[self.pos : self.pos + 1] != b"$":
                got = chr(self.buffer[self.pos])
                raise ProtocolError(f"Protocol error: expected '$', got '{got}'")
            end = self.buffer.find(b"\r\n", self.pos)
            if end < 0:
                if len(self.buffer) - self.pos > MAX_INLINE:
                    raise ProtocolError("Protocol error: too big bulk count string")
                return None
            size = parse_length(self.buffer[self.pos + 1 : end], "bulk")
            if size < 0 or size > MAX_BULK:
                raise ProtocolError("Protocol error: invalid bulk length")
            if len(self.buffer) < end + 2 + size + 2:
                return None
            self.args.append(self.buffer[end + 2 : end + 2 + size])
            self.pos = end + 2 + size + 2
            self.left -= 1
        args, self.args = self.args, None
        return args
