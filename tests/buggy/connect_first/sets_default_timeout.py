import socket

EXPECT = "never with socket.setdefaulttimeout()"


def connect_first(candidates, timeout):
    socket.setdefaulttimeout(timeout)
    errors = []
    for address in candidates:
        try:
            sock = socket.create_connection(address[:2])
        except OSError as exc:
            errors.append(f"{address[0]}:{address[1]} {exc}")
            continue
        sock.settimeout(None)
        return sock
    raise ConnectionError("\n".join(errors))
