# Splits the buffer on b'\r\n' and reads the lines: a payload holding
# '\r\n' is cut in two.
EXPECT = "never split the payload on '\\r\\n'"


class RespReader:
    def __init__(self):
        self.buffer = b""

    def feed(self, data):
        if not data:
            unfinished, self.buffer = self.buffer, b""
            if unfinished:
                raise EOFError("hung up mid-command")
            return []
        self.buffer += data
        commands = []
        while True:
            *lines, rest = self.buffer.split(b"\r\n")
            if not lines:
                return commands
            if not lines[0].startswith(b"*"):
                words = lines[0].split()
                self.buffer = self.buffer[len(lines[0]) + 2 :]
                if words:
                    commands.append(words)
                continue
            if not lines[0][1:].isdigit():
                if lines[0][1:].lstrip(b"-").isdigit():
                    self.buffer = self.buffer[len(lines[0]) + 2 :]
                    continue
                raise ValueError("Protocol error: invalid multibulk length")
            count = int(lines[0][1:])
            if len(lines) < 1 + 2 * count:
                return commands
            args = []
            for i in range(count):
                header, payload = lines[1 + 2 * i], lines[2 + 2 * i]
                if not header.startswith(b"$") or not header[1:].isdigit():
                    raise ValueError("Protocol error: invalid bulk length")
                if int(header[1:]) > 512 * 1024 * 1024:
                    raise ValueError("Protocol error: invalid bulk length")
                args.append(payload)
            used = sum(len(line) + 2 for line in lines[: 1 + 2 * count])
            self.buffer = self.buffer[used:]
            commands.append(args)
