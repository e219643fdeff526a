# `with conn:` around starting the thread closes the line as soon as the thread starts,
# while the handler is still talking on it.
import threading

EXPECT = "the caller's line was closed while handler was still using it"


def serve_many(listener, handler):
    while True:
        try:
            conn, address = listener.accept()
        except OSError:
            return
        with conn:
            threading.Thread(target=handler, args=(conn,)).start()
