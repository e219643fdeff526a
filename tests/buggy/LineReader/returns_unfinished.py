# Returns whatever arrived as lines, finished or not.
EXPECT = "that line is not finished yet"


class LineReader:
    def feed(self, data):
        text = data.decode("utf-8", errors="replace")
        return [line.rstrip("\r") for line in text.split("\n") if line]
