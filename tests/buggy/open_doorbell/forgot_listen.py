import socket

EXPECT = "call listen() after bind()"


def open_doorbell():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock
