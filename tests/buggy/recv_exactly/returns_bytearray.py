EXPECT = "return bytes(buf)"


def recv_exactly(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("hung up")
        buf += chunk
    return buf
