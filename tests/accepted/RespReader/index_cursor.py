# One bytes buffer and an integer cursor; the consumed part is dropped once per feed.
class RespReader:
    def __init__(self):
        self.data = b""

    def number(self, text, complaint):
        digits = text[1:] if text[:1] == b"-" else text
        ok = digits.isdigit() and (digits == b"0" or digits[:1] != b"0") and text != b"-0"
        if not ok or not text.isascii():
            raise ValueError(f"Protocol error: {complaint}")
        return int(text)

    def feed(self, data):
        if not data:
            if self.data:
                self.data = b""
                raise EOFError("hung up mid-command")
            return []
        self.data += data
        commands, cursor = [], 0
        while cursor < len(self.data):
            command, end = self.parse(cursor)
            if end is None:
                break
            cursor = end
            if command:
                commands.append(command)
        self.data = self.data[cursor:]
        if len(self.data) > 64 * 1024 and not self.data.startswith(b"*") and b"\n" not in self.data:
            raise ValueError("Protocol error: too big inline request")
        return commands

    def parse(self, i):
        data = self.data
        if data[i : i + 1] != b"*":
            end = data.find(b"\n", i)
            if end < 0:
                return None, None
            return data[i:end].rstrip(b"\r").split(), end + 1
        end = data.find(b"\r\n", i)
        if end < 0:
            if len(data) - i > 64 * 1024:  # a header line is bounded too
                raise ValueError("Protocol error: too big mbulk count string")
            return None, None
        count = self.number(data[i + 1 : end], "invalid multibulk length")
        i, args = end + 2, []
        for _ in range(max(count, 0)):
            if i >= len(data):
                return None, None
            if data[i : i + 1] != b"$":
                raise ValueError("Protocol error: expected '$'")
            end = data.find(b"\r\n", i)
            if end < 0:
                if len(data) - i > 64 * 1024:
                    raise ValueError("Protocol error: too big bulk count string")
                return None, None
            size = self.number(data[i + 1 : end], "invalid bulk length")
            if size < 0 or size > 512 * 1024 * 1024:
                raise ValueError("Protocol error: invalid bulk length")
            if len(data) < end + 2 + size + 2:
                return None, None
            args.append(data[end + 2 : end + 2 + size])
            i = end + 2 + size + 2
        return args, i
