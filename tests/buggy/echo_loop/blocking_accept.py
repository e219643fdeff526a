# Takes every caller waiting in the backlog, accepting until BlockingIOError, but never
# made the listener non-blocking: once nobody else waits, accept() waits for the next
# caller, and the callers already there get no echo.
import selectors

LIMIT = 1 << 20  # stop reading from a caller whose outbox holds more than this

EXPECT = "accept() on a blocking listener waits for the next caller"


def echo_loop(listener, wakeup):
    outboxes = {}  # caller's socket -> bytes still to send it
    finished = set()  # callers who hung up: close them once their outbox is empty

    def watch(conn):
        # Read unless the caller finished or its outbox is over the limit; watch for
        # "writable" only while something waits to be sent.
        events = 0
        if conn not in finished and len(outboxes[conn]) <= LIMIT:
            events |= selectors.EVENT_READ
        if outboxes[conn]:
            events |= selectors.EVENT_WRITE
        if events:
            selector.modify(conn, events)
        else:
            hang_up(conn)

    def hang_up(conn):
        selector.unregister(conn)
        del outboxes[conn]
        finished.discard(conn)
        conn.close()

    with selectors.DefaultSelector() as selector:
        selector.register(listener, selectors.EVENT_READ)
        selector.register(wakeup, selectors.EVENT_READ)
        try:
            while True:
                for key, mask in selector.select():
                    sock = key.fileobj
                    if sock is wakeup:
                        return
                    if sock is listener:
                        while True:  # take every caller waiting in the backlog
                            try:
                                conn, address = listener.accept()
                            except BlockingIOError:
                                break
                            conn.setblocking(False)
                            outboxes[conn] = b""
                            selector.register(conn, selectors.EVENT_READ)
                        continue
                    if sock not in outboxes:
                        continue  # closed earlier in this round
                    try:
                        if mask & selectors.EVENT_WRITE:
                            sent = sock.send(outboxes[sock])
                            outboxes[sock] = outboxes[sock][sent:]
                        if mask & selectors.EVENT_READ:
                            data = sock.recv(65536)
                            if data:
                                outboxes[sock] += data
                            else:
                                finished.add(sock)  # half-closed: send the rest first
                    except BlockingIOError:
                        pass
                    except OSError:  # a reset is a hang-up too
                        hang_up(sock)
                        continue
                    watch(sock)
        finally:
            for conn in list(outboxes):
                conn.close()
