# Reads only when select() says so, but answers with a blocking sendall(): a caller who
# does not read makes sendall() wait, and the whole loop with it.
import select

EXPECT = "sendall() waits until the caller has read everything"


def echo_loop(listener, wakeup):
    callers = []
    try:
        while True:
            readable, _, _ = select.select([listener, wakeup] + callers, [], [])
            for sock in readable:
                if sock is wakeup:
                    return
                if sock is listener:
                    conn, _ = listener.accept()
                    callers.append(conn)
                    continue
                try:
                    data = sock.recv(65536)
                    if data:
                        sock.sendall(data)
                        continue
                except OSError:
                    pass
                callers.remove(sock)
                sock.close()
    finally:
        for conn in callers:
            conn.close()
