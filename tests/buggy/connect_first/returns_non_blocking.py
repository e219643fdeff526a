import socket

EXPECT = "the socket returned is non-blocking"


def connect_first(candidates, timeout):
    errors = []
    for address in candidates:
        try:
            sock = socket.create_connection(address[:2], timeout=timeout)
        except OSError as exc:
            errors.append(f"{address[0]}:{address[1]} {exc}")
            continue
        sock.setblocking(False)  # "no timeout" = non-blocking?
        return sock
    raise ConnectionError("\n".join(errors))
