"""Fan-out of the course's chat server: how long one message takes to reach every member,
served by a thread per member (lesson 06), by the selectors core and by asyncio (lesson 07).

Not a test: run it by hand and read the tables::

    python tests/benchmarks/bench_chat_fanout.py            # 10, 100, 500 and 2000 members
    python tests/benchmarks/bench_chat_fanout.py 10 50      # other sizes
    python tests/benchmarks/bench_chat_fanout.py --servers selectors,asyncio 500

For each room size N: N members join (plain sockets, all read by one selector in this
thread, so the clients cost the server as little as possible), then a speaker sends

- 50 messages one at a time, each sent only when the previous one has reached all N
  members: the latency from sendall() to the last member's copy (median and 99th
  percentile);
- 200 messages back to back: messages per second sustained (and deliveries per second,
  that times N).

The server runs in this process (as in the notebook), so the numbers include the GIL
shared with the clients.  Each kind's deliveries per second are also shown as a ratio to
the threads' at the same size, measured in the same run.

Then memory per idle connection: each kind of echo server in a child process, with 2000
idle callers (see tcplessons.measure.idle_memory_per_caller), as a ratio to threads'.
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
from tcplessons.loopchat import start_async_chat_server, start_loop_chat_server
from tcplessons.measure import idle_memory_per_caller

SERVERS = {
    "threads": lambda name: start_chat_server(name=name, backlog=512),
    "selectors": lambda name: start_loop_chat_server(name=name, log_data=False, backlog=512),
    "asyncio": lambda name: start_async_chat_server(name=name, backlog=512),
}

LATENCY_MESSAGES = 50
BURST_MESSAGES = 200
DEADLINE = 60.0  # seconds any one phase may take before the benchmark gives up...


def deadline(n: int) -> float:
    """...plus time for the joins: every member hears of every later one (n * n / 2 lines,
    about 2 million at 2000 members, which a thread per member delivers slowly)."""
    return DEADLINE + n * n / 1000


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
        self.selector = selectors.DefaultSelector()
        self.lines = [0] * n  # newlines seen per member since the last reset()
        self.tail = [b""] * n
        for i in range(n):
            # Generous: a server busy announcing joins to 2000 members answers late.
            sock = socket.create_connection(address, timeout=60)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(f"m{i}\n".encode())
            sock.setblocking(False)
            self.socks.append(sock)
            self.selector.register(sock, selectors.EVENT_READ, i)
            if i % 100 == 99:  # read as we go: join announcements pile up otherwise
                self.read_until(lambda: True, time.monotonic() + deadline(n), wait=0)

    def read_until(self, done, deadline: float, wait: float = 1.0) -> None:
        first = True
        while first or not done():
            first = False
            if time.monotonic() > deadline:
                raise TimeoutError("the room did not hear everything in time")
            for key, _ in self.selector.select(wait):
                try:
                    data = key.fileobj.recv(1 << 20)
                except BlockingIOError:
                    continue
                i = key.data
                self.lines[i] += data.count(b"\n")
                self.tail[i] = (self.tail[i] + data)[-200:]

    def wait_for_everyone(self, count: int) -> None:
        until = time.monotonic() + deadline(len(self.socks))
        self.read_until(lambda: min(self.lines) >= count, until)

    def reset(self) -> None:
        self.lines = [0] * len(self.socks)

    def close(self) -> None:
        self.selector.close()
        for sock in self.socks:
            sock.close()


def measure(n: int, kind: str = "threads"):
    server = SERVERS[kind](f"bench {kind} {n}")
    room = Room(server.address, n)
    try:
        # Two welcome lines each, and "* X joined" for every pair (whoever joined first
        # hears about the other), whatever order the joins happened in.
        everyone = 2 * n + n * (n - 1) // 2
        room.read_until(lambda: sum(room.lines) >= everyone, time.monotonic() + deadline(n))
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
    kinds = list(SERVERS)
    if argv and argv[0] == "--servers":
        kinds, argv = argv[1].split(","), argv[2:]
    sizes = [int(a) for a in argv] or [10, 100, 500, 2000]
    raise_fd_limit(2 * max(sizes) + 100)
    print(
        f"chat fan-out: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )
    print(
        f"{'server':>10} {'members':>8} {'median ms':>10} {'p99 ms':>8} {'msgs/s':>8} "
        f"{'deliveries/s':>13} {'vs threads':>11}"
    )
    baseline = {}
    for n in sizes:
        for kind in kinds:
            median, p99, rate = measure(n, kind)
            if kind == "threads":
                baseline[n] = rate
            ratio = f"{rate / baseline[n]:>10.1f}x" if n in baseline else f"{'-':>11}"
            print(
                f"{kind:>10} {n:>8} {median * 1000:>10.2f} {p99 * 1000:>8.2f} {rate:>8.0f} "
                f"{rate * n:>13.0f} {ratio}",
                flush=True,
            )
    idle = max(sizes)
    print(f"\nmemory per idle connection, {idle} idle callers (echo servers in child processes)")
    memory = idle_memory_per_caller(kinds, (idle,))
    for kind in kinds:
        per = memory[kind][idle]
        ratio = f"{per / memory['threads'][idle]:.3f} of threads'" if "threads" in memory else ""
        print(f"{kind:>10} {per / 1024:>8.1f} KiB per connection  {ratio}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
