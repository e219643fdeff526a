import socket


def echo_client(address, message):
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(message.encode("utf-8"))
        sock.shutdown(socket.SHUT_WR)  # "I have finished talking"
        chunks = []
        while True:
            data = sock.recv(4096)
            if not data:  # the server hung up: the reply is complete
                break
            chunks.append(data)
    return b"".join(chunks).decode("utf-8")
