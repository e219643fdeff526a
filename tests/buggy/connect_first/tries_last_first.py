import socket

EXPECT = "connect_first() did not try the first candidate first"


def connect_first(candidates, timeout):
    errors = []
    for address in reversed(candidates):  # the last one is the newest, surely
        try:
            sock = socket.create_connection(address[:2], timeout=timeout)
        except OSError as exc:
            errors.append(f"{address[0]} port {address[1]}: {exc}")
            continue
        sock.settimeout(None)
        return sock
    raise ConnectionError("\n".join(errors))
