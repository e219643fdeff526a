def handle_echo(conn):
    with conn:
        while True:
            data = conn.recv(4096)
            if not data:  # b"": the caller hung up
                break
            conn.sendall(data)
