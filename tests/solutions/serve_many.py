import threading


def serve_many(listener, handler):
    while True:
        try:
            conn, address = listener.accept()
        except OSError:  # the listener was shut down or closed: nobody can ring any more
            return
        threading.Thread(target=handler, args=(conn,), daemon=True).start()
