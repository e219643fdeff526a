# The article's shape: the handler runs in the accept loop itself.
EXPECT = "the second caller was not answered while the first was still on the line"


def serve_many(listener, handler):
    while True:
        try:
            conn, address = listener.accept()
        except OSError:
            return
        handler(conn)
