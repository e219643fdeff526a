# Decodes every piece as it arrives: a character split across two reads crashes it.
EXPECT = "join the N bytes first, then decode them once"


def recv_message(sock):
    header = b""
    while len(header) < 4:
        chunk = sock.recv(4 - len(header))
        if not chunk:
            raise EOFError("the caller hung up")
        header += chunk
    remaining = int.from_bytes(header, "big")
    text = ""
    while remaining:
        chunk = sock.recv(remaining)
        if not chunk:
            raise EOFError("the caller hung up")
        remaining -= len(chunk)
        text += chunk.decode("utf-8")
    return text
