# send() instead of sendall(): whatever send() did not write is lost.
import struct

EXPECT = "sendall() keeps going until every byte is sent"


def send_message(sock, text):
    data = text.encode("utf-8")
    sock.send(struct.pack(">I", len(data)) + data)
