EXPECT = "read all 2 MB, and the caller hung up, but it did not return"


def recv_all(sock):
    chunks = []
    while True:
        chunks.append(sock.recv(4096))  # b"" is appended too: this spins forever
