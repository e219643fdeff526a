# Two send() calls, one for the length and one for the text: each may write only part.
import struct

EXPECT = "send() may write only part of the data"


def send_message(sock, text):
    data = text.encode("utf-8")
    sock.send(struct.pack(">I", len(data)))
    sock.send(data)
