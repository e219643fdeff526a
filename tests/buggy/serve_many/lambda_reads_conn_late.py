import threading

EXPECT = "same caller's line twice"


def serve_many(listener, handler):
    while True:
        try:
            conn, address = listener.accept()
        except OSError:
            return
        # The lambda reads conn when the thread runs, not now: by then the loop may
        # have accepted the next caller.
        threading.Thread(target=lambda: handler(conn), daemon=True).start()
