EXPECT = "returned a str, not bytes"


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("hung up")
        data += chunk
    return data.decode("latin-1")
