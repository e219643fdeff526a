# Sends the outbox and empties it, whatever send() returned: what the kernel did not take
# is lost.
import selectors

EXPECT = "the operating system took at most 1000 bytes per send()"


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
                        selector.register(conn, selectors.EVENT_READ)
                        continue
                    if sock not in outboxes:
                        continue
                    try:
                        if mask & selectors.EVENT_WRITE:
                            sock.send(outboxes[sock])
                            outboxes[sock] = b""
                        if mask & selectors.EVENT_READ:
                            data = sock.recv(65536)
                            if not data:
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
                        continue
                    events = selectors.EVENT_READ
                    if outboxes[sock]:
                        events |= selectors.EVENT_WRITE
                    selector.modify(sock, events)
        finally:
            for conn in outboxes:
                conn.close()
