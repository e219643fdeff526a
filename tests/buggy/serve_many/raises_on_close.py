# Nothing catches the OSError accept() raises once the listener is shut down.
import threading

EXPECT = "serve_many raised OSError"


def serve_many(listener, handler):
    while True:
        conn, address = listener.accept()
        threading.Thread(target=handler, args=(conn,)).start()
