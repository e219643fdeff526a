# Makes callers non-blocking, then answers with sendall(): when a caller does not read,
# its buffer fills and sendall() raises BlockingIOError: the whole loop ends.
import selectors

EXPECT = "echo_loop raised BlockingIOError (at: sock.sendall(data))"


def echo_loop(listener, wakeup):
    listener.setblocking(False)
    callers = set()
    with selectors.DefaultSelector() as selector:
        selector.register(listener, selectors.EVENT_READ)
        selector.register(wakeup, selectors.EVENT_READ)
        try:
            while True:
                for key, _ in selector.select():
                    sock = key.fileobj
                    if sock is wakeup:
                        return
                    if sock is listener:
                        conn, _ = listener.accept()
                        conn.setblocking(False)
                        callers.add(conn)
                        selector.register(conn, selectors.EVENT_READ)
                        continue
                    try:
                        data = sock.recv(65536)
                    except (BlockingIOError, ConnectionError):
                        data = b""
                    if not data:
                        selector.unregister(sock)
                        callers.discard(sock)
                        sock.close()
                        continue
                    sock.sendall(data)
        finally:
            for conn in callers:
                conn.close()
