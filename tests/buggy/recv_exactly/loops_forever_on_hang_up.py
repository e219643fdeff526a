EXPECT = "raise EOFError instead of calling recv() again"


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        data += sock.recv(n - len(data))  # b"" adds nothing, so this spins forever
    return data
