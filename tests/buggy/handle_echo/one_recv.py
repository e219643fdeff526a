# One recv() taken for the whole message: the rest of the stream is never echoed.
EXPECT = "TCP is a stream; keep calling recv()"


def handle_echo(conn):
    with conn:
        data = conn.recv(1024)
        conn.sendall(data)
