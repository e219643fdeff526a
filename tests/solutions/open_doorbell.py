import socket


def open_doorbell():
    """A TCP socket listening on 127.0.0.1, on a port the operating system picks."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))  # port 0: the operating system picks a free one
        sock.listen()
    except OSError:
        sock.close()
        raise
    return sock
