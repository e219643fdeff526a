import socket

EXPECT = "returned a closed socket"


def open_doorbell():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        return sock  # leaving the with block closes it, even on return
