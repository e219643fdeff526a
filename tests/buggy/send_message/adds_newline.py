# Adds a newline, out of habit from line-based protocols.
import struct

EXPECT = "a newline was added to the message"


def send_message(sock, text):
    data = (text + "\n").encode("utf-8")
    sock.sendall(struct.pack(">I", len(data)) + data)
