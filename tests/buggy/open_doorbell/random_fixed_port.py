# Picks a port at random to avoid collisions: still a port of its own choosing, which a
# real Redis or the learner next door may hold (and sometimes does).
import random
import socket

EXPECT = "bound its socket to a port it chose itself"


def open_doorbell():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", random.randint(20000, 60000)))
    sock.listen()
    return sock
