# Sends the str itself, as the article's client does: sockets carry bytes.
import socket

EXPECT = "sockets carry bytes, not str"


def echo_client(address, message):
    with socket.create_connection(address) as sock:
        sock.sendall(message)
        sock.shutdown(socket.SHUT_WR)
        return sock.recv(1024).decode()
