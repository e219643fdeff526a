import socket

EXPECT = "connect_first() did not connect to ::1, the first candidate"


def connect_first(candidates, timeout):
    errors = []
    for address in candidates:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(address[:2])
        except OSError as exc:
            sock.close()
            errors.append(f"{address[0]}:{address[1]} {exc}")
            continue
        sock.settimeout(None)
        return sock
    raise ConnectionError("\n".join(errors))
