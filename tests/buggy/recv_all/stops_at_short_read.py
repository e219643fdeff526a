EXPECT = "returned only part of the data"


def recv_all(sock):
    data = b""
    while True:
        chunk = sock.recv(1024)
        data += chunk
        if len(chunk) < 1024:  # "a short read means the end" — not on a stream
            return data
