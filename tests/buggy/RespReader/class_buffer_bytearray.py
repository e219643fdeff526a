# A bytearray buffer as a class attribute: every RespReader shares it.
EXPECT = "is a bytearray kept in the class"
import re

LENGTH = re.compile(rb"0|-?[1-9][0-9]*")


class RespReader:
    buf = bytearray()  # BUG: class attribute, shared by every reader

    def feed(self, data):
        if data == b"":
            if self.buf:
                raise EOFError("hung up in the middle of a command")
            return []
        self.buf += data
        out = []
        while self.buf:
            if self.buf[0] == ord("*"):
                cmd = self.parse_array()
            else:
                cmd = self.parse_inline()
            if cmd is None:
                break
            if cmd:
                out.append(cmd)
        return out

    def number(self, raw, kind):
        if not LENGTH.fullmatch(raw):
            raise ValueError(f"Protocol error: invalid {kind} length")
        return int(raw)

    def parse_inline(self):
        nl = self.buf.find(b"\n")
        if nl == -1:
            if len(self.buf) > 64 * 1024:
                raise ValueError("Protocol error: too big inline request")
            return None
        line = bytes(self.buf[:nl]).rstrip(b"\r")
        del self.buf[: nl + 1]
        return re.split(rb"[ \t]+", line.strip(b" \t")) if line.strip(b" \t") else []

    def parse_array(self):
        nl = self.buf.find(b"\r\n")
        if nl == -1:
            if len(self.buf) > 64 * 1024:
                raise ValueError("Protocol error: too big mbulk count string")
            return None
        count = self.number(bytes(self.buf[1:nl]), "multibulk")
        pos = nl + 2
        if count <= 0:
            del self.buf[:pos]
            return []
        args = []
        for _ in range(count):
            if pos >= len(self.buf):
                return None
            if self.buf[pos] != ord("$"):
                raise ValueError(f"Protocol error: expected '$', got '{chr(self.buf[pos])}'")
            nl = self.buf.find(b"\r\n", pos)
            if nl == -1:
                return None
            size = self.number(bytes(self.buf[pos + 1 : nl]), "bulk")
            if size < 0 or size > 512 * 1024 * 1024:
                raise ValueError("Protocol error: invalid bulk length")
            start = nl + 2
            if len(self.buf) < start + size + 2:
                return None
            args.append(bytes(self.buf[start : start + size]))
            pos = start + size + 2
        del self.buf[:pos]
        return args
