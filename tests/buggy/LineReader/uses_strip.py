# Uses .strip() to get rid of "\r\n": it also removes spaces the member typed.
import codecs

EXPECT = "strip() removes more than the line ending"


class LineReader:
    def __init__(self):
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.rest = ""

    def feed(self, data):
        if not data:
            rest, self.rest = self.rest + self.decoder.decode(b"", final=True), ""
            return [rest.strip()] if rest else []
        *lines, self.rest = (self.rest + self.decoder.decode(data)).split("\n")
        return [line.strip() for line in lines]
