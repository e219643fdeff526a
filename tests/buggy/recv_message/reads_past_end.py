# Reads big chunks and throws away what follows the message: the next message is lost.
EXPECT = "read past the end of message 1"


def recv_message(sock):
    data = b""
    while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "big"):
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("the caller hung up")
        data += chunk
    length = int.from_bytes(data[:4], "big")
    return data[4 : 4 + length].decode("utf-8")
