import socket

EXPECT = "two calls returned the same socket"

_doorbell = None


def open_doorbell():
    # One socket made once and handed out again: the second caller gets the same doorbell.
    global _doorbell
    if _doorbell is None or _doorbell.fileno() == -1:
        _doorbell = socket.create_server(("127.0.0.1", 0))
    return _doorbell
