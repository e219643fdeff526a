# Selectors, with each outbox a list of memoryviews (no copying of unsent bytes).
import selectors
from collections import deque


def echo_loop(listener, wakeup):
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "accept")
    sel.register(wakeup, selectors.EVENT_READ, "wake")
    state = {}  # conn -> [deque of memoryviews, bytes waiting, finished?]

    def update(conn):
        views, waiting, done = state[conn]
        if done and not waiting:
            sel.unregister(conn)
            del state[conn]
            conn.close()
            return
        events = 0 if done or waiting > 1 << 20 else selectors.EVENT_READ
        if waiting:
            events |= selectors.EVENT_WRITE
        sel.modify(conn, events, "conn")

    try:
        while True:
            for key, mask in sel.select():
                if key.data == "wake":
                    return
                if key.data == "accept":
                    conn, _ = listener.accept()
                    conn.setblocking(False)
                    state[conn] = [deque(), 0, False]
                    sel.register(conn, selectors.EVENT_READ, "conn")
                    continue
                conn = key.fileobj
                if conn not in state:
                    continue
                entry = state[conn]
                try:
                    if mask & selectors.EVENT_WRITE:
                        while entry[0]:
                            sent = conn.send(entry[0][0])
                            entry[1] -= sent
                            if sent < len(entry[0][0]):
                                entry[0][0] = entry[0][0][sent:]
                                break
                            entry[0].popleft()
                    if mask & selectors.EVENT_READ:
                        data = conn.recv(65536)
                        if data:
                            entry[0].append(memoryview(data))
                            entry[1] += len(data)
                        else:
                            entry[2] = True
                except BlockingIOError:
                    pass
                except OSError:
                    entry[0].clear()
                    entry[1] = 0
                    entry[2] = True
                update(conn)
    finally:
        for conn in state:
            conn.close()
        sel.close()
