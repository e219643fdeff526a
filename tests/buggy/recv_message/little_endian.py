# Reads the length as little-endian: "hello" announces 83 886 080 bytes.
EXPECT = "is the length read as big-endian"


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("the caller hung up")
        data += chunk
    return data


def recv_message(sock):
    length = int.from_bytes(recv_exactly(sock, 4), "little")
    return recv_exactly(sock, length).decode("utf-8")
