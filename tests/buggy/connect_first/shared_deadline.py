import socket
import time

EXPECT = "each attempt gets the full timeout"


def connect_first(candidates, timeout):
    # shares one timeout across all candidates (a deadline), not one per candidate
    errors = []
    deadline = time.monotonic() + timeout
    for address in candidates:
        left = max(deadline - time.monotonic(), 0.001)
        try:
            sock = socket.create_connection(address[:2], timeout=left)
        except OSError as exc:
            errors.append(f"{address[0]}:{address[1]} {exc}")
            continue
        sock.settimeout(None)
        return sock
    raise ConnectionError("\n".join(errors))
