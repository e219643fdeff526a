# Shrugs off every accept() error and tries again: on a closed listener, forever.
import threading

EXPECT = "serve_many did not return within"


def serve_many(listener, handler):
    while True:
        try:
            conn, address = listener.accept()
        except OSError:
            continue
        threading.Thread(target=handler, args=(conn,)).start()
