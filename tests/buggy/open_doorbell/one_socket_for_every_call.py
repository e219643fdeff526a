import socket

EXPECT = "each call must make a new socket"

# Made once, when the cell runs; every call hands out this same socket.
_doorbell = socket.create_server(("127.0.0.1", 0))


def open_doorbell():
    return _doorbell
