# Decodes every piece on its own with errors="replace": no crash, but split characters
# turn into U+FFFD.
EXPECT = "codecs.getincrementaldecoder"


class LineReader:
    def __init__(self):
        self.rest = ""

    def feed(self, data):
        if not data:
            rest, self.rest = self.rest, ""
            return [rest] if rest else []
        *lines, self.rest = (self.rest + data.decode("utf-8", errors="replace")).split("\n")
        return [line.removesuffix("\r") for line in lines]
