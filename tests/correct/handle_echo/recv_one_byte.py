# Lesson 05 teaches recv(1): slow (one call per byte) but correct.
def handle_echo(conn):
    with conn:
        while True:
            data = conn.recv(1)
            if data == b"":
                break
            conn.sendall(data)
