EXPECT = "read bigger pieces, e.g. sock.recv(4096)"


def recv_all(sock):
    data = b""
    while True:
        byte = sock.recv(1)  # one call per byte, and each += copies all of data again
        if not byte:
            return data
        data += byte
