def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError(f"the caller hung up after {len(data)} of {n} bytes")
        data += chunk
    return data


def recv_message(sock):
    length = int.from_bytes(recv_exactly(sock, 4), "big")
    return recv_exactly(sock, length).decode("utf-8")
