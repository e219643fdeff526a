# Decodes as it reads, with a decoder that keeps half a character for the next piece.
import codecs
import socket


def echo_client(address, message):
    decoder = codecs.getincrementaldecoder("utf-8")()
    parts = []
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.connect(address)
        sock.sendall(message.encode("utf-8"))
        sock.shutdown(socket.SHUT_WR)
        while True:
            data = sock.recv(1)
            parts.append(decoder.decode(data, final=not data))
            if not data:
                break
    finally:
        sock.close()
    return "".join(parts)
