"""The real Redis programs, for tests and benchmarks: ``redis-server``, ``redis-cli``,
``redis-benchmark`` (Debian's redis-server and redis-tools).

- :func:`start_real_redis` — a real ``redis-server`` on 127.0.0.1 and a free port, no
  persistence; ``stop()`` ends it (by its own PID).
- :func:`redis_cli` / :func:`redis_benchmark` — run the programs against an address.
- ``needs(...)`` — a pytest mark that skips when a program is missing.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time

import pytest

FIGURE = re.compile(r"^([A-Z_]+[^:\n]*): ([\d.]+) requests per second", re.MULTILINE)


def needs(*programs: str):
    missing = [p for p in programs if shutil.which(p) is None]
    return pytest.mark.skipif(
        bool(missing), reason=f"needs {', '.join(missing)} (apt install redis-server redis-tools)"
    )


def _free_port() -> int:
    # redis-server cannot take port 0; ask the kernel for a free one, then hand it over.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RealRedis:
    def __init__(self) -> None:
        for _attempt in range(5):  # the port may be taken between probe and start
            self.address = ("127.0.0.1", _free_port())
            self.process = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.address[1]),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                    "--loglevel",
                    "warning",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    socket.create_connection(self.address, timeout=1).close()
                    return
                except OSError:
                    time.sleep(0.02)  # polling a starting process: no event to wait on
            self.stop()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def __enter__(self) -> RealRedis:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def start_real_redis() -> RealRedis:
    return RealRedis()


def redis_cli(
    address: tuple[str, int], *args: str, input: bytes = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    host, port = address
    return subprocess.run(
        ["redis-cli", "-h", host, "-p", str(port), *args],
        input=input,
        capture_output=True,
        timeout=timeout,
    )


def redis_benchmark(address: tuple[str, int], *args: str, timeout: float = 900) -> dict[str, float]:
    """Run ``redis-benchmark -q`` with ``args``; return {test title: requests per second}."""
    host, port = address
    done = subprocess.run(
        ["redis-benchmark", "-h", host, "-p", str(port), "-q", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return {name: float(value) for name, value in FIGURE.findall(done.stdout.replace("\r", "\n"))}


def default_tests() -> list[str]:
    """The titles of redis-benchmark's default test set (Redis 7)."""
    return [
        "PING_INLINE",
        "PING_MBULK",
        "SET",
        "GET",
        "INCR",
        "LPUSH",
        "RPUSH",
        "LPOP",
        "RPOP",
        "SADD",
        "HSET",
        "SPOP",
        "ZADD",
        "ZPOPMIN",
        "LPUSH (needed to benchmark LRANGE)",
        "LRANGE_100 (first 100 elements)",
        "LRANGE_300 (first 300 elements)",
        "LRANGE_500 (first 500 elements)",
        "LRANGE_600 (first 600 elements)",
        "MSET (10 keys)",
    ]
