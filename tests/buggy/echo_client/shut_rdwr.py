# The natural beginner choice: shut the whole line down after sending.  SHUT_RDWR also
# closes the client's own reading side, so whether any of the reply is seen depends on
# timing; the check decides from the shutdown() call itself, the same way every run.
import socket

EXPECT = "you closed your own reading side too: use SHUT_WR"


def echo_client(address, message):
    with socket.create_connection(address) as sock:
        sock.sendall(message.encode("utf-8"))
        sock.shutdown(socket.SHUT_RDWR)
        chunks = []
        while True:
            data = sock.recv(4096)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode("utf-8")
