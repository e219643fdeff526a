import socket

EXPECT = "connect_first() skipped the IPv6 candidate, which was listening"


def connect_first(candidates, timeout):
    errors = []
    # "IPv4 is more reliable": try those first
    for address in sorted(candidates, key=lambda a: ":" in a[0]):
        try:
            sock = socket.create_connection(address[:2], timeout=timeout)
        except OSError as exc:
            errors.append(f"{address[0]} port {address[1]}: {exc}")
            continue
        sock.settimeout(None)
        return sock
    raise ConnectionError("\n".join(errors))
