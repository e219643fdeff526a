import socket

EXPECT = "connect_first() did not try the first candidate first"


def connect_first(candidates, timeout):
    # "IPv4 is more reliable, try it first": sort IPv4 addresses before IPv6
    errors = []
    for address in sorted(candidates, key=lambda a: ":" in a[0]):
        try:
            sock = socket.create_connection(address[:2], timeout=timeout)
        except OSError as exc:
            errors.append(f"{address[0]}:{address[1]} {exc}")
            continue
        sock.settimeout(None)
        return sock
    raise ConnectionError("\n".join(errors))
