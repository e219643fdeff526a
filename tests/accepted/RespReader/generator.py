# A generator-based state machine: the parser is a coroutine that asks for lines or bytes.
import re

NUM = re.compile(rb"0|-?[1-9][0-9]*")
NEED_LINE, NEED_BYTES = "line", "bytes"


def parser():
    while True:
        first = yield (NEED_BYTES, 1)
        if first == b"\n":
            continue
        if first != b"*":
            rest = yield (NEED_LINE, b"\n")
            line = (first + rest).rstrip(b"\r")
            words = [w for w in re.split(rb"[ \t]+", line) if w]
            if words:
                yield ("command", words)
            continue
        header = yield (NEED_LINE, b"\r\n")
        if not NUM.fullmatch(header):
            raise ValueError("Protocol error: invalid multibulk length")
        count = int(header)
        args = []
        for _ in range(count):
            dollar = yield (NEED_BYTES, 1)
            if dollar != b"$":
                raise ValueError(f"Protocol error: expected '$', got '{dollar.decode('latin-1')}'")
            header = yield (NEED_LINE, b"\r\n")
            if not NUM.fullmatch(header):
                raise ValueError("Protocol error: invalid bulk length")
            size = int(header)
            if size < 0 or size > 512 * 1024 * 1024:
                raise ValueError("Protocol error: invalid bulk length")
            payload = yield (NEED_BYTES, size + 2)
            args.append(payload[:size])
        if args:
            yield ("command", args)


class RespReader:
    def __init__(self):
        self.gen = parser()
        self.want = next(self.gen)
        self.buf = b""
        self.busy = False  # inside a command

    def feed(self, data):
        if not data:
            if self.buf or self.busy:
                raise EOFError("hung up mid-command")
            return []
        self.buf += data
        out = []
        while True:
            kind, arg = self.want
            if kind == "command":
                out.append(arg)
                self.busy = False
                self.want = next(self.gen)
                continue
            if kind == NEED_BYTES:
                if len(self.buf) < arg:
                    return out
                piece, self.buf = self.buf[:arg], self.buf[arg:]
            else:
                end = self.buf.find(arg)
                if end < 0:
                    if len(self.buf) > 64 * 1024:
                        raise ValueError("Protocol error: too big inline request")
                    return out
                piece, self.buf = self.buf[:end], self.buf[end + len(arg) :]
            self.busy = True
            self.want = self.gen.send(piece)
            if self.want[0] == NEED_BYTES and self.want[1] == 1 and not out_pending(self):
                self.busy = False


def out_pending(reader):
    return False
