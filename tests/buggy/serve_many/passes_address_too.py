# Calls handler(conn, address): the contract's handler takes the connection only.
import threading

EXPECT = "handler was called with 2 arguments"


def serve_many(listener, handler):
    while True:
        try:
            conn, address = listener.accept()
        except OSError:
            return
        threading.Thread(target=handler, args=(conn, address)).start()
