# A thread per caller, but waiting for it straight away: still one at a time.
import threading

EXPECT = "the second caller was not answered while the first was still on the line"


def serve_many(listener, handler):
    while True:
        try:
            conn, address = listener.accept()
        except OSError:
            return
        thread = threading.Thread(target=handler, args=(conn,))
        thread.start()
        thread.join()
