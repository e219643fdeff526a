# Decodes each read as text, as the article's server does: binary data (and a character
# split across two reads) crash it.
EXPECT = "the data need not be text"


def handle_echo(conn):
    with conn:
        while True:
            message = conn.recv(1024).decode()
            if not message:
                break
            conn.sendall(message.encode())
