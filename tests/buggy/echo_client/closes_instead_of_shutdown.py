# Closes the socket to say "I have finished", then tries to read the reply from it.
import socket

EXPECT = "close() ends the socket for good"


def echo_client(address, message):
    sock = socket.create_connection(address)
    sock.sendall(message.encode("utf-8"))
    sock.close()
    chunks = []
    while True:
        data = sock.recv(4096)
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("utf-8")
