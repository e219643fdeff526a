# Ignores feed(b""): the last line of a caller who hangs up without "\n" is lost.
EXPECT = "feed(b'') means the caller hung up"


class LineReader:
    def __init__(self):
        self.buffer = b""

    def feed(self, data):
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        return [line.decode("utf-8", errors="replace").removesuffix("\r") for line in lines]
