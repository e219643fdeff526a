# Lesson 03's "Bug 2": send() may write only part of the message.
import socket

EXPECT = "sendall() keeps going until every byte is sent"


def echo_client(address, message):
    with socket.create_connection(address) as sock:
        sock.send(message.encode("utf-8"))
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            data = sock.recv(4096)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode("utf-8")
