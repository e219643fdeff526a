# Shuts down the write side first, then tries to send.
import socket

EXPECT = "shut down the write side after sendall(), not before"


def echo_client(address, message):
    with socket.create_connection(address) as sock:
        sock.shutdown(socket.SHUT_WR)
        sock.sendall(message.encode("utf-8"))
        chunks = []
        while True:
            data = sock.recv(4096)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode("utf-8")
