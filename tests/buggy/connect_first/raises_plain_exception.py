import socket

EXPECT = "connect_first() raised Exception, not ConnectionError"


def connect_first(candidates, timeout):
    errors = []
    for address in candidates:
        try:
            sock = socket.create_connection(address[:2], timeout=timeout)
        except OSError as exc:
            errors.append(f"{address[0]}:{address[1]} {exc}")
            continue
        sock.settimeout(None)
        return sock
    raise Exception("\n".join(errors))
