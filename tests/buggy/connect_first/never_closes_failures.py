import socket

EXPECT = "sockets of failed attempts were left open"


def connect_first(candidates, timeout):
    errors = []
    for address in candidates:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError as exc:
            errors.append(f"{address[0]} port {address[1]}: {exc}")  # sock left open
            continue
        sock.settimeout(None)
        return sock
    raise ConnectionError("\n".join(errors))
