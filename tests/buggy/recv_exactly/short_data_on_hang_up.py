EXPECT = "raise EOFError rather than return short data"


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break  # returns what it has: the caller cannot tell it is incomplete
        data += chunk
    return data
