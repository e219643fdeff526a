# Accepts, then asks every caller in turn for data with a blocking recv(): the first
# caller who says nothing keeps everyone else waiting.
import select

EXPECT = "recv() on a blocking socket waits for the caller to speak"


def echo_loop(listener, wakeup):
    callers = []
    try:
        while True:
            readable, _, _ = select.select([listener, wakeup], [], [], 0.05)
            if wakeup in readable:
                return
            if listener in readable:
                conn, _ = listener.accept()
                callers.append(conn)
            for conn in list(callers):
                data = conn.recv(65536)
                if not data:
                    callers.remove(conn)
                    conn.close()
                else:
                    conn.sendall(data)
    finally:
        for conn in callers:
            conn.close()
