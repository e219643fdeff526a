# Returns whatever arrived when the caller hangs up, instead of raising EOFError.
EXPECT = "raise EOFError"


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def recv_message(sock):
    length = int.from_bytes(recv_exactly(sock, 4).rjust(4, b"\0"), "big")
    return recv_exactly(sock, length).decode("utf-8", errors="replace")
