# args=(conn) is just conn in brackets, not a tuple: the new thread fails at once.
import threading

EXPECT = "a thread you started raised TypeError"


def serve_many(listener, handler):
    while True:
        try:
            conn, address = listener.accept()
        except OSError:
            return
        threading.Thread(target=handler, args=(conn)).start()
