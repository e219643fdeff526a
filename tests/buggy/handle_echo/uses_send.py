# send() instead of sendall(): whatever send() did not write is lost.
EXPECT = "sendall() keeps going until every byte is sent"


def handle_echo(conn):
    with conn:
        while True:
            data = conn.recv(4096)
            if not data:
                break
            conn.send(data)
