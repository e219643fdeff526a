"""Benchmark: the course's Redis server against the real redis-server, side by side.

Not a test: prints figures.  Run from the repository root::

    python tests/benchmarks/bench_redis.py            # -n 200000, 50 clients
    python tests/benchmarks/bench_redis.py -n 50000   # quicker

For each of PING, SET and GET at -P 1 (one request in flight per client) and -P 16
(16 pipelined), ``redis-benchmark -q`` measures requests per second against:

- the real ``redis-server`` (started here on 127.0.0.1, a free port, no persistence),
- the course's server, ``start_redis_server(log_data=False)``,
- the course's server with the lesson's reference solutions plugged in
  (``reader=RespReader, handle_command=handle_command`` from tests/solutions),

and prints the ratios to Redis.  Goals (issue 11): at least 0.9x Redis at -P 1 and 0.4x at
-P 16 on SET and GET.  Each test also reports the CPU time each server used per request
(redis-server's from /proc, the course's from this process): on a machine busy with other
work, requests per second swing with the load, CPU per request much less.

Then the Nagle demonstration of lesson 08: a thread server that
writes each reply on its own, with and without TCP_NODELAY, against one that batches the
replies of each read.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from redis_support import start_real_redis  # noqa: E402

from tcplessons import start_redis_server  # noqa: E402
from tcplessons.redis_nagle import measure_pipelines, start_reply_server  # noqa: E402

TESTS = ["PING_INLINE", "PING_MBULK", "SET", "GET"]
FIGURE = re.compile(r"^([A-Z_]+[^:\n]*): ([\d.]+) requests per second", re.MULTILINE)


def run_benchmark(address, test: str, requests: int, clients: int, pipeline: int) -> float:
    """Requests per second of one redis-benchmark test (``ping_inline``, ``set``...)."""
    host, port = address
    command = ["redis-benchmark", "-h", host, "-p", str(port), "-q", "-n", str(requests)]
    command += ["-c", str(clients), "-P", str(pipeline), "-t", test]
    out = subprocess.run(command, capture_output=True, text=True, timeout=1800).stdout
    found = FIGURE.findall(out.replace("\r", "\n"))
    return float(found[-1][1]) if found else 0.0


def redis_server_cpu(pid: int):
    """A function giving the CPU seconds process ``pid`` has used (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")

    def used() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    return used


def load_solution(name: str):
    namespace: dict = {}
    exec(
        compile((ROOT / "tests" / "solutions" / f"{name}.py").read_text(), name, "exec"), namespace
    )
    return namespace[name]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=200_000, help="requests per test (200000)")
    parser.add_argument("-c", type=int, default=50, help="clients (50)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="runs per server, interleaved; the best of each is kept (a busy machine's "
        "slow moments then hit every server alike)",
    )
    parser.add_argument(
        "--skip-solutions", action="store_true", help="do not measure the reference solutions"
    )
    options = parser.parse_args()
    if not (shutil.which("redis-server") and shutil.which("redis-benchmark")):
        sys.exit(
            "needs redis-server and redis-benchmark (Debian: apt install redis-server redis-tools)"
        )

    servers = {}
    real = start_real_redis()
    course = start_redis_server(name="bench course", log_data=False)
    servers["redis-server"] = real.address
    servers["course"] = course.address
    solutions = None
    if not options.skip_solutions:
        solutions = start_redis_server(
            name="bench solutions",
            log_data=False,
            reader=load_solution("RespReader"),
            handle_command=load_solution("handle_command"),
        )
        servers["solutions"] = solutions.address
    try:
        print(
            f"redis-benchmark -q -n {options.n} -c {options.c} -t ping,set,get; "
            f"best of {options.rounds} interleaved run(s) per server; {os.cpu_count()} CPUs"
        )
        # CPU used while serving says more than requests per second on a busy machine: it
        # does not count the time a server waited for a core.  This process's CPU is the
        # course's server's (the main thread only waits for redis-benchmark meanwhile).
        cpu = {label: time.process_time for label in servers}
        cpu["redis-server"] = redis_server_cpu(real.process.pid)
        for pipeline in (1, 16):
            rates = {label: {} for label in servers}
            costs = {label: {} for label in servers}
            for _round in range(options.rounds):
                for test in TESTS:
                    for label, address in servers.items():
                        before = cpu[label]()
                        rate = run_benchmark(address, test.lower(), options.n, options.c, pipeline)
                        used = (cpu[label]() - before) / options.n * 1e6
                        rates[label][test] = max(rate, rates[label].get(test, 0.0))
                        costs[label][test] = min(used, costs[label].get(test, float("inf")))
            others = [label for label in servers if label != "redis-server"]
            print(f"\n-P {pipeline}: requests per second (ratio to redis-server)")
            print(f"{'test':<12}" + "".join(f"{label:>22}" for label in servers))
            for test in TESTS:
                base = rates["redis-server"][test]
                cells = [f"{base:>22,.0f}"] + [
                    f"{rates[label][test]:>14,.0f} ({rates[label][test] / base:.2f}x)"
                    for label in others
                ]
                print(f"{test:<12}" + "".join(cells))
            print(f"-P {pipeline}: CPU microseconds per request (redis-server's / this one's)")
            for test in TESTS:
                base = costs["redis-server"][test]
                cells = [f"{base:>22.2f}"] + [
                    f"{costs[label][test]:>14.2f} ({base / costs[label][test]:.2f}x)"
                    for label in others
                ]
                print(f"{test:<12}" + "".join(cells))
    finally:
        course.stop()
        if solutions is not None:
            solutions.stop()
        real.stop()

    print("\nNagle demonstration: redis-py pipelines of 10 INCRs, 200 rounds, thread server")
    for label, options_ in (
        ("a write per reply", dict(batch=False)),
        ("a write per reply + TCP_NODELAY", dict(batch=False, nodelay=True)),
        ("replies batched per read", dict(batch=True)),
    ):
        with start_reply_server(name="bench nagle", **options_) as server:
            started = time.perf_counter()
            rate = measure_pipelines(server.address, rounds=200, size=10)
            print(
                f"  {label:<34} {rate:>10,.0f} requests/s   ({time.perf_counter() - started:.1f} s)"
            )


if __name__ == "__main__":
    main()
