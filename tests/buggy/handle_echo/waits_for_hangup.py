# Collects everything until the caller hangs up, then sends it all back at once:
# a person typing in nc never sees a line come back.
EXPECT = "did not send the line back while the caller was still on the line"


def handle_echo(conn):
    with conn:
        received = b""
        while True:
            data = conn.recv(4096)
            if not data:
                break
            received += data
        conn.sendall(received)
