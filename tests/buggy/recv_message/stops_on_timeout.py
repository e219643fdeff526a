# Gives up on a message when nothing arrives for half a second.
import struct

EXPECT = "a pause is not a hang-up"


def recv_message(sock):
    sock.settimeout(0.5)
    data = b""
    try:
        while len(data) < 4:
            more = sock.recv(4 - len(data))
            if not more:
                raise EOFError
            data += more
        (size,) = struct.unpack(">I", data)
        body = b""
        while len(body) < size:
            more = sock.recv(size - len(body))
            if not more:
                raise EOFError
            body += more
    except TimeoutError:
        return body.decode("utf-8", errors="replace") if data else ""
    return body.decode("utf-8")
