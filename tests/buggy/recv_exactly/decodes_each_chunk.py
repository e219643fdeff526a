EXPECT = "decode later, once you have a whole"


def recv_exactly(sock, n):
    text = ""
    while len(text) < n:
        chunk = sock.recv(n - len(text))
        if not chunk:
            raise EOFError("hung up")
        text += chunk.decode()
    return text.encode()
