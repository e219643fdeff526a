import socket

EXPECT = "connect_first() was still waiting for a silent candidate"


def connect_first(candidates, timeout):
    errors = []
    for address in candidates:
        try:
            return socket.create_connection(address[:2])  # no timeout: waits for minutes
        except OSError as exc:
            errors.append(f"{address[0]} port {address[1]}: {exc}")
    raise ConnectionError("\n".join(errors))
