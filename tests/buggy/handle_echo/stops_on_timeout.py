# Treats a quiet second as the end of the call.

EXPECT = "a pause is not a hang-up"


def handle_echo(conn):
    conn.settimeout(1.0)
    with conn:
        while True:
            try:
                data = conn.recv(4096)
            except TimeoutError:
                break
            if not data:
                break
            conn.sendall(data)
