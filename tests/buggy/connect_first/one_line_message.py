import socket

EXPECT = "the ConnectionError does not say what happened at every address, in order"


def connect_first(candidates, timeout):
    errors = []
    for address in candidates:
        try:
            sock = socket.create_connection(address[:2], timeout=timeout)
        except OSError as exc:
            errors.append(f"{address[0]} port {address[1]}: {exc}")
            continue
        sock.settimeout(None)
        return sock
    raise ConnectionError("; ".join(errors))
