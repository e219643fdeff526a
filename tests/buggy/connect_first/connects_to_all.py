import socket

EXPECT = "connect_first() called other candidates after the first one answered"


def connect_first(candidates, timeout):
    connected, errors = [], []
    for address in candidates:
        try:
            sock = socket.create_connection(address[:2], timeout=timeout)
        except OSError as exc:
            errors.append(f"{address[0]} port {address[1]}: {exc}")
            continue
        sock.settimeout(None)
        connected.append(sock)
    if not connected:
        raise ConnectionError("\n".join(errors))
    for extra in connected[1:]:
        extra.close()
    return connected[0]
