# The same loop with select.select() and bytearray outboxes.
import select


def echo_loop(listener, wakeup):
    listener.setblocking(False)
    outboxes = {}
    finished = set()
    try:
        while True:
            readers = [listener, wakeup] + [
                c for c in outboxes if c not in finished and len(outboxes[c]) <= 1 << 20
            ]
            writers = [c for c in outboxes if outboxes[c]]
            readable, writable, _ = select.select(readers, writers, [])
            if wakeup in readable:
                return
            for conn in writable:
                try:
                    sent = conn.send(outboxes[conn])
                    del outboxes[conn][:sent]
                except BlockingIOError:
                    pass
                except OSError:
                    finished.add(conn)
                    outboxes[conn].clear()
            for sock in readable:
                if sock is listener:
                    try:
                        conn, _ = listener.accept()
                    except BlockingIOError:
                        continue
                    conn.setblocking(False)
                    outboxes[conn] = bytearray()
                    continue
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                    outboxes[sock].clear()
                if data:
                    outboxes[sock] += data
                else:
                    finished.add(sock)
            for conn in [c for c in finished if not outboxes[c]]:
                finished.discard(conn)
                del outboxes[conn]
                conn.close()
    finally:
        for conn in outboxes:
            conn.close()
