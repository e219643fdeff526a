EXPECT = "recv(n) returns *up to* n bytes"


def recv_all(sock):
    return sock.recv(1024)
