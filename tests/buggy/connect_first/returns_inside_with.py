import socket

EXPECT = "a with block closes the socket when you return from inside it"


def connect_first(candidates, timeout):
    errors = []
    for address in candidates:
        try:
            with socket.create_connection(address[:2], timeout=timeout) as sock:
                sock.settimeout(None)
                return sock
        except OSError as exc:
            errors.append(f"{address[0]}:{address[1]} {exc}")
    raise ConnectionError("\n".join(errors))
