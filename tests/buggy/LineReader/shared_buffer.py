# Keeps the unfinished line in a class attribute: every LineReader shares it.
EXPECT = "not in a class attribute"


class LineReader:
    pending = bytearray()

    def feed(self, data):
        if not data:
            rest = bytes(self.pending)
            self.pending.clear()
            return [rest.decode("utf-8", errors="replace")] if rest else []
        self.pending += data
        *lines, rest = bytes(self.pending).split(b"\n")
        self.pending[:] = rest
        return [line.decode("utf-8", errors="replace").removesuffix("\r") for line in lines]
