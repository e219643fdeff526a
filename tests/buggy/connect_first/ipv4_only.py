import socket

EXPECT = "an IPv6 address needs an IPv6 socket"


def connect_first(candidates, timeout):
    errors = []
    for address in candidates:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # IPv4 for everything
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError as exc:
            sock.close()
            errors.append(f"{address[0]} port {address[1]}: {exc}")
            continue
        sock.settimeout(None)
        return sock
    raise ConnectionError("\n".join(errors))
