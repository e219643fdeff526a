import socket

EXPECT = "SOCK_STREAM"


def open_doorbell():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock
