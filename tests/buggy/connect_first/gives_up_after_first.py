import socket

EXPECT = "connect_first() gave up after the first candidate was refused"


def connect_first(candidates, timeout):
    for address in candidates:
        sock = socket.create_connection(address[:2], timeout=timeout)
        sock.settimeout(None)
        return sock
    raise ConnectionError("no candidates")
