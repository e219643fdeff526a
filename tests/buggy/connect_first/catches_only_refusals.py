import socket

EXPECT = "connect_first() raised TimeoutError"


def connect_first(candidates, timeout):
    errors = []
    for address in candidates:
        try:
            sock = socket.create_connection(address[:2], timeout=timeout)
        except ConnectionError as exc:  # TimeoutError is not a ConnectionError
            errors.append(f"{address[0]} port {address[1]}: {exc}")
            continue
        sock.settimeout(None)
        return sock
    raise ConnectionError("\n".join(errors))
