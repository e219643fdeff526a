import socket

EXPECT = "sockets of failed attempts were left open"


def connect_first(candidates, timeout):
    tried = []
    for address in candidates:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError as exc:
            tried.append((address, sock, exc))  # kept for the message, never closed
            continue
        sock.settimeout(None)
        return sock
    raise ConnectionError("\n".join(f"{a[0]} port {a[1]}: {e}" for a, _, e in tried))
