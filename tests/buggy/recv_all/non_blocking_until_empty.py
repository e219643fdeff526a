# Reads in non-blocking mode until nothing is waiting: a pause looks like the end.
EXPECT = "a pause is not a hang-up"


def recv_all(sock):
    sock.setblocking(False)
    chunks = []
    while True:
        try:
            chunk = sock.recv(4096)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)
