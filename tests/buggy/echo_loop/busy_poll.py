# No selector at all: try every socket over and over, catching BlockingIOError.
# It works, but burns a whole CPU core while nobody says anything.
EXPECT = "with every caller quiet, the loop thread used"


def echo_loop(listener, wakeup):
    listener.setblocking(False)
    wakeup.setblocking(False)
    outboxes = {}
    try:
        while True:
            try:
                wakeup.recv(1)
                return
            except BlockingIOError:
                pass
            try:
                conn, _ = listener.accept()
                conn.setblocking(False)
                outboxes[conn] = b""
            except BlockingIOError:
                pass
            for conn in list(outboxes):
                try:
                    if outboxes[conn]:
                        sent = conn.send(outboxes[conn])
                        outboxes[conn] = outboxes[conn][sent:]
                    if len(outboxes[conn]) <= 1 << 20:
                        data = conn.recv(65536)
                        if not data:
                            conn.close()
                            del outboxes[conn]
                            continue
                        outboxes[conn] += data
                except BlockingIOError:
                    pass
                except OSError:
                    conn.close()
                    del outboxes[conn]
    finally:
        for conn in outboxes:
            conn.close()
