# Two bytes at a time, send() checked by sendall(): slow but correct.
def handle_echo(conn):
    while True:
        data = conn.recv(2)
        if not data:
            break
        conn.sendall(data)
    conn.close()
