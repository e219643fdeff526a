# Hands the doorbell to the handler instead of the caller's line.
import threading

EXPECT = "handler was given the listening socket"


def serve_many(listener, handler):
    while True:
        try:
            conn, address = listener.accept()
        except OSError:
            return
        threading.Thread(target=handler, args=(listener,)).start()
