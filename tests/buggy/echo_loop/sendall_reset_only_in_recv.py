# Keeps no outbox: answers each read at once with sendall(), and catches a reset only
# around recv(). A caller who resets just as the loop answers it makes sendall() raise.
import selectors

EXPECT = "while the loop was sending it its echo"


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
                        callers.add(conn)
                        selector.register(conn, selectors.EVENT_READ)
                        continue
                    try:
                        data = sock.recv(65536)
                    except OSError:
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
