import socket


def connect_first(candidates, timeout):
    """Connect to the first address that answers; at most `timeout` seconds each."""
    errors = []
    for address in candidates:
        host, port = address[0], address[1]
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)  # for this attempt only
            sock.connect(address)
        except OSError as exc:
            sock.close()  # a failed attempt's socket is closed now, not some day
            errors.append(f"{host} port {port}: {exc}")
            continue
        sock.settimeout(None)  # hand back a blocking socket
        return sock
    raise ConnectionError("\n".join(errors) or "no addresses to try")
