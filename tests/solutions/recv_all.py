def recv_all(sock):
    """Everything the caller sends, until it hangs up."""
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:  # b"": the caller hung up
            return b"".join(chunks)
        chunks.append(chunk)
