import socket

EXPECT = "bind to '127.0.0.1'"


def open_doorbell():
    # listen() without bind() picks a port, but on every interface.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.listen()
    return sock
