EXPECT = "b''.join(chunks)"


def recv_all(sock):
    chunks = []
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return chunks
        chunks.append(chunk)
