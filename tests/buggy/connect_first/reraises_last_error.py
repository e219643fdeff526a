import socket

EXPECT = "the ConnectionError does not say what happened at every address, in order"


def connect_first(candidates, timeout):
    last_error = None
    for address in candidates:
        try:
            sock = socket.create_connection(address[:2], timeout=timeout)
        except OSError as exc:
            last_error = exc
            continue
        sock.settimeout(None)
        return sock
    raise last_error
