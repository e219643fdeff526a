EXPECT = "read past the 4th byte"


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(4096)  # may take bytes of the next message too...
        if not chunk:
            raise EOFError("hung up")
        data += chunk
    return data[:n]  # ...which are thrown away here
