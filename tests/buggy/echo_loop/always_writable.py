# Watches every caller for "writable" all the time, as some tutorials do: a socket with
# room in its send buffer is always writable, so select() never waits and the loop spins.
import selectors

EXPECT = "register EVENT_WRITE only while a caller's outbox holds bytes"


def echo_loop(listener, wakeup):
    listener.setblocking(False)
    outboxes = {}
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
                        conn, _ = listener.accept()
                        conn.setblocking(False)
                        outboxes[conn] = b""
                        selector.register(conn, selectors.EVENT_READ | selectors.EVENT_WRITE)
                        continue
                    if sock not in outboxes:
                        continue
                    try:
                        if mask & selectors.EVENT_WRITE and outboxes[sock]:
                            sent = sock.send(outboxes[sock])
                            outboxes[sock] = outboxes[sock][sent:]
                        if mask & selectors.EVENT_READ and len(outboxes[sock]) <= 1 << 20:
                            data = sock.recv(65536)
                            if not data:
                                if not outboxes[sock]:
                                    selector.unregister(sock)
                                    del outboxes[sock]
                                    sock.close()
                                continue
                            outboxes[sock] += data
                    except BlockingIOError:
                        pass
                    except OSError:
                        selector.unregister(sock)
                        del outboxes[sock]
                        sock.close()
        finally:
            for conn in outboxes:
                conn.close()
