# The length counts characters, but bytes travel: "héllo" is 5 characters, 6 bytes.
import struct

EXPECT = "count bytes, not characters"


def send_message(sock, text):
    sock.sendall(struct.pack(">I", len(text)) + text.encode("utf-8"))
