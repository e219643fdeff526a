EXPECT = "read past the 4th byte"


def recv_exactly(sock, n):
    # A buffered file reads ahead to fill its buffer; closing it throws those bytes away.
    with sock.makefile("rb") as f:
        data = f.read(n)
    if len(data) < n:
        raise EOFError("hung up")
    return data
