# Splits the decoded text with str.splitlines(), which also breaks lines at \x0c,
# \x1c, \x85, \u2028 and other characters that are not '\n'.
import codecs

EXPECT = "str.splitlines() also splits at"


class LineReader:
    def __init__(self):
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.unfinished = ""

    def feed(self, data):
        if not data:
            rest = self.unfinished + self.decoder.decode(b"", final=True)
            self.unfinished = ""
            return [rest] if rest else []
        lines = (self.unfinished + self.decoder.decode(data)).splitlines(keepends=True)
        self.unfinished = lines.pop() if lines and not lines[-1].endswith("\n") else ""
        return [line.rstrip("\r\n") for line in lines]
