# Non-blocking reads, stopping when nothing is waiting: a pause looks like the end.
EXPECT = "a pause is not a hang-up"


def handle_echo(conn):
    conn.setblocking(False)
    with conn:
        while True:
            try:
                data = conn.recv(4096)
            except BlockingIOError:
                break
            if not data:
                break
            conn.setblocking(True)
            conn.sendall(data)
            conn.setblocking(False)
