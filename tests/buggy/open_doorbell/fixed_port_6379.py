import socket

EXPECT = "bind to port 0"


def open_doorbell():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 6379))
    sock.listen(5)
    return sock
