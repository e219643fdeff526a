EXPECT = "recv(n) returns *up to* n bytes"


def recv_exactly(sock, n):
    # One recv() is not one message: it may return fewer than n bytes.
    return sock.recv(n)
