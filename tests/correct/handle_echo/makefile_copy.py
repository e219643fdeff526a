# A file-like view of the connection, unbuffered, so each piece goes back at once.
def handle_echo(conn):
    with conn, conn.makefile("rb", buffering=0) as incoming:
        while True:
            data = incoming.read(4096)
            if not data:
                return
            conn.sendall(data)
