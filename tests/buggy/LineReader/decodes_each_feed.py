# Decodes every piece on its own: a character split across two feeds crashes it.
EXPECT = "a character can be split across two feeds"


class LineReader:
    def __init__(self):
        self.rest = ""

    def feed(self, data):
        if not data:
            rest, self.rest = self.rest, ""
            return [rest] if rest else []
        *lines, self.rest = (self.rest + data.decode("utf-8")).split("\n")
        return [line.removesuffix("\r") for line in lines]
