import socket

EXPECT = "the socket returned still has a timeout set"


def connect_first(candidates, timeout):
    errors = []
    for address in candidates:
        try:
            return socket.create_connection(address[:2], timeout=timeout)
        except OSError as exc:
            errors.append(f"{address[0]} port {address[1]}: {exc}")
    raise ConnectionError("\n".join(errors))
