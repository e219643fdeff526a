# Calls accept() inside open_doorbell(): it waits for a caller nobody has sent yet.
# Every check trips over the same wait; the report explains it once.  (Its thread
# keeps running after the check until accept() times out.)
import socket

EXPECT = "waiting for a caller with accept() comes later"


def open_doorbell():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.settimeout(3)  # bounded, so the thread ends soon after the check
    try:
        sock.accept()
    except OSError:
        pass
    return sock
