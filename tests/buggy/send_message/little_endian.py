# A little-endian length: struct.pack("I") uses the machine's byte order.
import struct

EXPECT = "the length prefix is little-endian"


def send_message(sock, text):
    data = text.encode("utf-8")
    sock.sendall(struct.pack("<I", len(data)) + data)
