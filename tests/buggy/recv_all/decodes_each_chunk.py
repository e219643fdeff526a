EXPECT = "decode later, once you have a whole"


def recv_all(sock):
    text = ""
    while True:
        chunk = sock.recv(1024).decode()
        if not chunk:
            return text.encode()
        text += chunk
