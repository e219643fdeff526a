# A thread pool is fine, but with 4 workers the fifth caller waits in the backlog.
from concurrent.futures import ThreadPoolExecutor

EXPECT = "handler was running for 4 of them"


def serve_many(listener, handler):
    with ThreadPoolExecutor(max_workers=4) as pool:
        while True:
            try:
                conn, address = listener.accept()
            except OSError:
                return
            pool.submit(handler, conn)
