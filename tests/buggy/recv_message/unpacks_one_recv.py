# Takes the length from a single recv(4) and unpacks it: when fewer than 4 bytes have
# arrived (or the caller hung up), struct.unpack() raises struct.error.
import struct

EXPECT = "got: struct.error: unpack requires"


def recv_message(sock):
    (length,) = struct.unpack(">I", sock.recv(4))
    data = b""
    while len(data) < length:
        piece = sock.recv(length - len(data))
        if not piece:
            raise EOFError()
        data += piece
    return data.decode("utf-8")
