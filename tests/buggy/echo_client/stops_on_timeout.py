# Takes a quiet moment for the end of the reply: a one-second timeout, caught.
import socket

EXPECT = "a pause is not a hang-up"


def echo_client(address, message):
    with socket.create_connection(address) as sock:
        sock.sendall(message.encode("utf-8"))
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(1.0)
        chunks = []
        while True:
            try:
                data = sock.recv(4096)
            except TimeoutError:
                break
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode("utf-8")
