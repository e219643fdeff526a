# Gives up when nothing arrives for half a second, returning what it has.

EXPECT = "a pause is not a hang-up"


def recv_exactly(sock, n):
    sock.settimeout(0.5)
    data = b""
    while len(data) < n:
        try:
            more = sock.recv(n - len(data))
        except TimeoutError:
            break
        if not more:
            raise EOFError
        data += more
    return data
