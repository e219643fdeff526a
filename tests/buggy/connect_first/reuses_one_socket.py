import socket

EXPECT = "a socket connects once"


def connect_first(candidates, timeout):
    errors = []
    sock = socket.socket(socket.AF_INET6 if ":" in candidates[0][0] else socket.AF_INET)
    sock.settimeout(timeout)
    for address in candidates:
        try:
            sock.connect(address)
        except OSError as exc:
            errors.append(f"{address[0]}:{address[1]} {exc}")
            continue
        sock.settimeout(None)
        return sock
    sock.close()
    raise ConnectionError("\n".join(errors))
