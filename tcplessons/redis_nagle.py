"""The Nagle trap, measured: a Redis server that writes each reply on its own.

Lesson 08 shows the handler below and measures it: a thread per client (lesson 05's
:func:`~tcplessons.servers.start_server`), RESP parsed with
:class:`~tcplessons.resp.RespReader`, and either one ``sendall()`` per reply or one per
read.  With pipelined requests, the second small reply of a read waits in the kernel
(Nagle's algorithm: no new small segment while one is unacknowledged) for the client's
acknowledgement, which the client delays (up to about 40 ms) because it has nothing to
send: it is waiting for the rest of the replies.  Batching the replies of a read, or
``TCP_NODELAY``, removes the stall::

    server = start_reply_server(batch=False)            # the trap
    measure_pipelines(server.address)                   # requests per second
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from .redis_commands import Keyspace, Session, execute
from .resp import RespReader, protocol_error_reply
from .servers import Server, start_server

__all__ = ["measure_pipelines", "reply_handler", "start_reply_server"]


def reply_handler(*, batch: bool, nodelay: bool = False) -> Callable[[socket.socket], None]:
    """A handler for :func:`~tcplessons.servers.start_server` that answers Redis
    commands: ``batch=False`` sends each reply on its own, ``batch=True`` sends the replies
    of one read together; ``nodelay=True`` turns Nagle's algorithm off."""
    databases = [Keyspace()]

    def handle_redis(conn: socket.socket) -> None:
        if nodelay:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader, session = RespReader(), Session(databases)
        while True:
            data = conn.recv(65536)
            commands, problem = reader.read(data)
            replies = [execute(session, args) for args in commands]
            if problem is not None and not isinstance(problem, EOFError):
                replies.append(protocol_error_reply(problem))
            if batch:
                conn.sendall(b"".join(replies))
            else:
                for reply in replies:
                    conn.sendall(reply)
            if not data or problem is not None:
                return

    return handle_redis


def start_reply_server(*, batch: bool, nodelay: bool = False, name: str | None = "nagle") -> Server:
    """Start a thread server with :func:`reply_handler` (127.0.0.1, a free port)."""
    return start_server(reply_handler(batch=batch, nodelay=nodelay), name)


def measure_pipelines(
    address: tuple[str, int], rounds: int = 50, size: int = 10, timeout: float = 30.0
) -> float:
    """Requests per second of redis-py sending ``rounds`` pipelines of ``size`` INCRs."""
    import redis  # redis-py, installed by requirements.txt

    client = redis.Redis(*address, protocol=2, socket_timeout=timeout)
    try:
        started = time.perf_counter()
        for _ in range(rounds):
            pipe = client.pipeline(transaction=False)
            for _ in range(size):
                pipe.incr("counter")
            pipe.execute()
        return rounds * size / (time.perf_counter() - started)
    finally:
        client.close()
