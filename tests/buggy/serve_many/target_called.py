# target=handler(conn) calls the handler here, in the accept loop, and passes its result.
import threading

EXPECT = "the second caller was not answered while the first was still on the line"


def serve_many(listener, handler):
    while True:
        try:
            conn, address = listener.accept()
        except OSError:
            return
        threading.Thread(target=handler(conn)).start()
