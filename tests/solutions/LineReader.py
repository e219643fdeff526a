import codecs


class LineReader:
    def __init__(self):
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.unfinished = ""

    def feed(self, data):
        if not data:  # the caller hung up
            rest = self.unfinished + self.decoder.decode(b"", final=True)
            self.unfinished = ""
            return [rest] if rest else []
        *lines, self.unfinished = (self.unfinished + self.decoder.decode(data)).split("\n")
        return [line.removesuffix("\r") for line in lines]
