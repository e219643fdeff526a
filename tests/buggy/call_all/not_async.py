# A plain def with blocking sockets: nothing to await, and one server at a time.
import socket

EXPECT = "not a coroutine to await"


def call_all(addresses, message, timeout):
    replies = []
    for address in addresses:
        try:
            with socket.create_connection(address, timeout=timeout) as sock:
                sock.sendall(message)
                sock.shutdown(socket.SHUT_WR)
                chunks = []
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
                replies.append(b"".join(chunks))
        except OSError as exc:
            replies.append(exc)
    return replies
