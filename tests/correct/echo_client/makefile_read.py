# Reads the reply through a file object: read() collects everything until b"".
import socket


def echo_client(address, message):
    with socket.create_connection(address) as sock:
        sock.sendall(message.encode("utf-8"))
        sock.shutdown(socket.SHUT_WR)
        with sock.makefile("rb") as reply:
            return reply.read().decode("utf-8")
