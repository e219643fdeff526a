# Takes one recv(n) for n bytes: recv() may return fewer.
EXPECT = "keep reading until you have n bytes"


def recv_message(sock):
    header = sock.recv(4)
    if not header:
        raise EOFError("the caller hung up")
    length = int.from_bytes(header, "big")
    return sock.recv(length).decode("utf-8")
