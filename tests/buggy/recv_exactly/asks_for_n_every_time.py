EXPECT = "more than the 4 it should"


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n)  # should be n - len(data): this can read past the n-th byte
        if not chunk:
            raise EOFError("hung up")
        data += chunk
    return data
