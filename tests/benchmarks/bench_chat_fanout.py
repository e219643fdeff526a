"""Fan-out of the course's chat server: how long one message takes to reach every member.

Not a test: run it by hand and read the table::

    python tests/benchmarks/bench_chat_fanout.py            # 10, 100 and 500 members
    python tests/benchmarks/bench_chat_fanout.py 10 50      # other sizes

For each room size N: N members join (plain sockets, all read by one selector in this
thread, so the clients cost the server as little as possible), then a speaker sends

- 50 messages one at a time, each sent only when the previous one has reached all N
  members: the latency from sendall() to the last member's copy (median and 99th
  percentile);
- 200 messages back to back: messages per second sustained (and deliveries per second,
  that times N).

The server runs in this process (a thread per member, as in the notebook), so the
numbers include the GIL shared with the clients.
"""

from __future__ import annotations

import os
import platform
import resource
import selectors
import socket
import statistics
import sys
import time

from tcplessons import start_chat_server

LATENCY_MESSAGES = 50
BURST_MESSAGES = 200
DEADLINE = 60.0  # seconds any one phase may take before the benchmark gives up


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft != resource.RLIM_INFINITY and soft < needed:
        sys.exit(f"need {needed} file descriptors, the limit is {soft}")


class Room:
    """N members on plain sockets, read together with one selector."""

    def __init__(self, address, n: int):
        self.socks = []
        for i in range(n):
            sock = socket.create_connection(address, timeout=10)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(f"m{i}\n".encode())
            sock.setblocking(False)
            self.socks.append(sock)
        self.selector = selectors.DefaultSelector()
        for i, sock in enumerate(self.socks):
            self.selector.register(sock, selectors.EVENT_READ, i)
        self.lines = [0] * n  # newlines seen per member since the last reset()
        self.tail = [b""] * n

    def read_until(self, done, deadline: float) -> None:
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError("the room did not hear everything in time")
            for key, _ in self.selector.select(1.0):
                try:
                    data = key.fileobj.recv(1 << 20)
                except BlockingIOError:
                    continue
                i = key.data
                self.lines[i] += data.count(b"\n")
                self.tail[i] = (self.tail[i] + data)[-200:]

    def wait_for_everyone(self, count: int) -> None:
        self.read_until(lambda: min(self.lines) >= count, time.monotonic() + DEADLINE)

    def reset(self) -> None:
        self.lines = [0] * len(self.socks)

    def close(self) -> None:
        self.selector.close()
        for sock in self.socks:
            sock.close()


def measure(n: int):
    server = start_chat_server(name=f"bench {n}")
    room = Room(server.address, n)
    try:
        # Two welcome lines each, and "* X joined" for every pair (whoever joined first
        # hears about the other), whatever order the joins happened in.
        everyone = 2 * n + n * (n - 1) // 2
        room.read_until(lambda: sum(room.lines) >= everyone, time.monotonic() + DEADLINE)
        speaker = socket.create_connection(server.address, timeout=10)
        speaker.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        room.reset()
        speaker.sendall(b"speaker\n")
        room.wait_for_everyone(1)  # "* speaker joined"

        room.reset()
        latencies = []
        for k in range(1, LATENCY_MESSAGES + 1):
            started = time.perf_counter()
            speaker.sendall(b"ping %d\n" % k)
            room.wait_for_everyone(k)
            latencies.append(time.perf_counter() - started)

        room.reset()
        burst = b"".join(b"burst %d\n" % k for k in range(BURST_MESSAGES))
        started = time.perf_counter()
        speaker.sendall(burst)
        room.wait_for_everyone(BURST_MESSAGES)
        burst_seconds = time.perf_counter() - started
        speaker.close()
    finally:
        room.close()
        server.stop()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return statistics.median(latencies), p99, BURST_MESSAGES / burst_seconds


def main(argv) -> None:
    sizes = [int(a) for a in argv] or [10, 100, 500]
    raise_fd_limit(2 * max(sizes) + 100)
    print(
        f"chat fan-out: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )
    print(f"{'members':>8} {'median ms':>10} {'p99 ms':>8} {'msgs/s':>8} {'deliveries/s':>13}")
    for n in sizes:
        median, p99, rate = measure(n)
        print(f"{n:>8} {median * 1000:>10.2f} {p99 * 1000:>8.2f} {rate:>8.0f} {rate * n:>13.0f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
