# Never shuts down the write side: the server waits for the end of the message while the
# client waits for the reply.
import socket

EXPECT = "sock.shutdown(socket.SHUT_WR)"


def echo_client(address, message):
    with socket.create_connection(address) as sock:
        sock.sendall(message.encode("utf-8"))
        chunks = []
        while True:
            data = sock.recv(4096)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode("utf-8")
