# No loop: answers one caller, then stops listening for more.
import threading

EXPECT = "serve_many returned while callers were still ringing"


def serve_many(listener, handler):
    try:
        conn, address = listener.accept()
    except OSError:
        return
    threading.Thread(target=handler, args=(conn,)).start()
