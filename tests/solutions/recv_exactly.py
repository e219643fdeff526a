def recv_exactly(sock, n):
    """Exactly n bytes from sock; EOFError if the caller hangs up first."""
    chunks = []
    missing = n
    while missing > 0:
        chunk = sock.recv(missing)  # never more than we still need
        if not chunk:
            raise EOFError(f"the caller hung up after {n - missing} of {n} bytes")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)
