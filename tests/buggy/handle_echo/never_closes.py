# Stops at b"" but never closes conn: the caller waits for a hang-up that never comes.
EXPECT = "never closed conn"


def handle_echo(conn):
    while True:
        data = conn.recv(4096)
        if not data:
            return
        conn.sendall(data)
