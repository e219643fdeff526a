# The article's client: one recv(1024) taken for the whole reply.
import socket

EXPECT = "keep calling recv() until it returns b''"


def echo_client(address, message):
    with socket.create_connection(address) as sock:
        sock.sendall(message.encode("utf-8"))
        sock.shutdown(socket.SHUT_WR)
        return sock.recv(1024).decode("utf-8", errors="replace")
