# Never checks for b"": after the caller hangs up it loops forever on empty reads.
EXPECT = "recv() returns b'' when the caller hangs up"


def handle_echo(conn):
    with conn:
        while True:
            data = conn.recv(4096)
            conn.sendall(data)
