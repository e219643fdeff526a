import socket

EXPECT = "sockets of failed attempts were left open\nsent: two candidates: the first never answers"


def connect_first(candidates, timeout):
    errors = []
    for address in candidates:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except ConnectionRefusedError as exc:
            sock.close()
            errors.append(f"{address[0]}:{address[1]}: {exc}")
            continue
        except TimeoutError as exc:
            errors.append(f"{address[0]}:{address[1]}: {exc}")  # forgot close here
            continue
        sock.settimeout(None)
        return sock
    raise ConnectionError("\n".join(errors))
