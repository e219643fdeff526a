# Passes what accept() returned, a (conn, address) pair, without unpacking it.
import threading

EXPECT = "handler was given a tuple"


def serve_many(listener, handler):
    while True:
        try:
            call = listener.accept()
        except OSError:
            return
        threading.Thread(target=handler, args=(call,)).start()
