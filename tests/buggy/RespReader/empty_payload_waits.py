# Takes an empty payload for 'nothing arrived yet' and waits for more: a
# $0 argument is never finished.
import re

EXPECT = "is an empty argument b''"
MAX_BULK = 512 * 1024 * 1024  # Redis refuses longer bulk strings
MAX_INLINE = 64 * 1024  # and longer unfinished lines
NUMBER = re.compile(rb"0|-?[1-9][0-9]*")


class RespReader:
    def __init__(self):
        self.buffer = bytearray()

    def feed(self, data):
        if not data:  # the caller hung up
            unfinished = bool(self.buffer)
            self.buffer.clear()
            if unfinished:
                raise EOFError("the caller hung up in the middle of a command")
            return []
        self.buffer += data
        commands = []
        while self.buffer:
            command, used = self.parse_one()
            if not used:  # the next command is not complete yet
                break
            del self.buffer[:used]
            if command:  # an empty line or *0 is no command
                commands.append(command)
        return commands

    def parse_one(self):
        """(command, bytes used) for the first command in the buffer; used is 0 if it is
        not complete yet."""
        buf = self.buffer
        if buf[0] != ord("*"):  # an inline command: words up to '\n'
            end = buf.find(b"\n")
            if end < 0:
                if len(buf) > MAX_INLINE:
                    raise ValueError("Protocol error: too big inline request")
                return None, 0
            return bytes(buf[:end]).removesuffix(b"\r").split(), end + 1
        count, pos = self.number(1, "invalid multibulk length")
        if count is None or count <= 0:
            return None, pos
        args = []
        for _ in range(count):
            if pos >= len(buf):
                return None, 0
            if buf[pos] != ord("$"):
                raise ValueError(f"Protocol error: expected '$', got '{chr(buf[pos])}'")
            size, pos = self.number(pos + 1, "invalid bulk length")
            if size is None:
                return None, 0
            if size < 0 or size > MAX_BULK:
                raise ValueError("Protocol error: invalid bulk length")
            if size == 0 or len(buf) < pos + size + 2:
                return None, 0
            args.append(bytes(buf[pos : pos + size]))
            pos += size + 2
        return args, pos

    def number(self, start, complaint):
        """(the number from start up to '\\r\\n', where the next line starts)."""
        end = self.buffer.find(b"\r\n", start)
        if end < 0:
            if len(self.buffer) - start > MAX_INLINE:
                raise ValueError(f"Protocol error: {complaint}")
            return None, 0
        digits = bytes(self.buffer[start:end])
        if not NUMBER.fullmatch(digits):  # int() would take '+5', ' 5', '1_0' and '05'
            raise ValueError(f"Protocol error: {complaint}")
        return int(digits), end + 2
