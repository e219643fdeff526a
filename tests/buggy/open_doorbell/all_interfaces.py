import socket

EXPECT = "bind to '127.0.0.1' (loopback)"


def open_doorbell():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("0.0.0.0", 0))
    sock.listen()
    return sock
