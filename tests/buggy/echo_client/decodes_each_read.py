# Decodes each piece on its own: a character split across two reads crashes it.
import socket

EXPECT = "a character can be split across two recv() calls"


def echo_client(address, message):
    with socket.create_connection(address) as sock:
        sock.sendall(message.encode("utf-8"))
        sock.shutdown(socket.SHUT_WR)
        reply = ""
        while True:
            data = sock.recv(1024)
            if not data:
                break
            reply += data.decode("utf-8")
    return reply
