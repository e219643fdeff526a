"""Benchmark: the course's background echo server against socketserver's, measured the
same way in the same run (these machines are noisy, so compare ratios, not seconds).

    python tests/benchmarks/bench_servers.py [--rounds 40]

For each server: start-to-first-echo (start it, connect, send 5 bytes, read them back)
and stop latency (from the stop call until its threads are gone), median of many rounds.
"""

from __future__ import annotations

import argparse
import os
import socket
import socketserver
import statistics
import threading
import time

from tcplessons import start_echo_server


def first_echo(address) -> None:
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(b"hello")
        assert sock.recv(5) == b"hello"


def course_round() -> tuple[float, float]:
    t0 = time.perf_counter()
    server = start_echo_server(name="bench")
    first_echo(server.address)
    t1 = time.perf_counter()
    server.stop()
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


def socketserver_round() -> tuple[float, float]:
    t0 = time.perf_counter()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), EchoHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    first_echo(server.server_address)
    t1 = time.perf_counter()
    server.shutdown()  # waits for serve_forever's poll (0.5 s interval) to notice
    server.server_close()
    thread.join()
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def measure(round_fn, rounds: int) -> tuple[float, float]:
    starts, stops = zip(*(round_fn() for _ in range(rounds)))
    return statistics.median(starts), statistics.median(stops)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    # Alternate the two in blocks so drifting machine load hits both alike.
    course, stdlib = [], []
    for _ in range(4):
        course.append(measure(course_round, args.rounds // 4))
        stdlib.append(measure(socketserver_round, args.rounds // 4))
    c_start = statistics.median(s for s, _ in course)
    c_stop = statistics.median(s for _, s in course)
    s_start = statistics.median(s for s, _ in stdlib)
    s_stop = statistics.median(s for _, s in stdlib)
    print(f"cores: {os.cpu_count()}, rounds: {args.rounds} each")
    print(f"{'':28}{'start to first echo':>22}{'stop':>14}")
    print(f"{'tcplessons.start_echo_server':28}{c_start * 1e3:19.3f} ms{c_stop * 1e3:11.3f} ms")
    print(f"{'socketserver.ThreadingTCP':28}{s_start * 1e3:19.3f} ms{s_stop * 1e3:11.3f} ms")
    print(f"{'ratio (socketserver / ours)':28}{s_start / c_start:21.1f}x{s_stop / c_stop:13.0f}x")


if __name__ == "__main__":
    main()
