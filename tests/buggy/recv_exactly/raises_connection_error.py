# Raises ConnectionError when the caller hangs up: the contract says EOFError.
EXPECT = "raised ConnectionError instead of EOFError"


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        more = sock.recv(n - len(data))
        if not more:
            raise ConnectionError("the caller hung up")
        data += more
    return data
