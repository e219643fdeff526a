import socket

EXPECT = "each attempt gets the full timeout"


def connect_first(candidates, timeout):
    errors = []
    each = timeout / len(candidates)
    for address in candidates:
        try:
            sock = socket.create_connection(address[:2], timeout=each)
        except OSError as exc:
            errors.append(f"{address[0]}:{address[1]} {exc}")
            continue
        sock.settimeout(None)
        return sock
    raise ConnectionError("\n".join(errors))
