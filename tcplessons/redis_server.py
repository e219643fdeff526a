"""The course's Redis server: RESP on the event loop, for real Redis clients.

::

    server = start_redis_server()              # 127.0.0.1, a free port, ready on return
    import redis
    r = redis.Redis(*server.address)
    r.set("greeting", "hello"); r.get("greeting")          # b'hello'
    print(server.redis_cli_command())           # redis-cli -h 127.0.0.1 -p PORT
    server.stop()

Like Redis itself it serves every client from one thread (the loop of
:mod:`tcplessons.eventloop`): each read is parsed into commands, every command is run,
and the replies of one read leave in one write.  A protocol error gets Redis's
``-ERR Protocol error: ...`` reply, then the connection is closed; other clients never
notice.

Plug your own parts in: ``start_redis_server(reader=RespReader)`` parses with your
reader class, ``start_redis_server(handle_command=handle_command)`` answers with your
function (one ``dict`` shared by every client is its store).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

from .eventloop import LoopServer, Protocol
from .redis_commands import COMMANDS, DATABASES, Keyspace, Session, execute
from .resp import RespReader, protocol_error_reply
from .servers import _registry_lock, _running

__all__ = ["RedisProtocol", "RedisServer", "redis_tools_installed", "start_redis_server"]


class RedisProtocol(Protocol):
    """One Redis client on the loop: bytes in, commands out, replies batched per read.

    The replies to every command of one read leave in one ``write()`` (lesson 08 shows
    what a write per reply costs).  With the learner's parts: ``reader_factory`` makes
    the reader (its ``feed()`` is called), ``handler(store, args)`` answers.
    """

    def __init__(
        self,
        databases: list[Keyspace],
        client_id: int,
        reader_factory=None,
        handler=None,
        store=None,
        capture: list | None = None,
    ):
        self.session = Session(databases, client_id)
        self.learner_reader = reader_factory is not None
        self.reader = reader_factory() if reader_factory is not None else RespReader()
        self.handler = handler
        self.store = store
        self.capture = capture

    def connection_made(self, conn) -> None:
        self.conn = conn

    def _read(self, data: bytes):
        if not self.learner_reader:
            return self.reader.read(data)
        try:
            return self.reader.feed(data), None
        except EOFError:
            return [], None
        except ValueError as problem:
            return [], problem

    def data_received(self, data: bytes) -> None:
        if self.capture is not None:
            self.capture.append((self.session.id, "client", data))
        commands, problem = self._read(data)
        if self.handler is not None:
            replies = [self.handler(self.store, args) for args in commands]
        else:
            session, table = self.session, COMMANDS
            replies = []
            append = replies.append
            for args in commands:
                entry = table.get(args[0].upper())
                if entry is not None and session.queued is None:  # the common case, inline
                    fn, arity, _ = entry
                    if arity == len(args) or (arity < 0 and len(args) >= -arity):
                        append(fn(session, args))
                    else:
                        append(execute(session, args))
                else:
                    append(execute(session, args))  # unknown, or inside MULTI
                if session.closing:  # QUIT: reply, then hang up; ignore what follows
                    problem = None
                    break
        if problem is not None:
            replies.append(protocol_error_reply(problem))
        if replies:
            out = replies[0] if len(replies) == 1 else b"".join(replies)
            if self.capture is not None:
                self.capture.append((self.session.id, "server", out))
            self.conn.write(out)
        if problem is not None or self.session.closing:
            self.conn.close()

    def eof_received(self) -> None:
        self.conn.close()


class RedisServer(LoopServer):
    """A :class:`~tcplessons.eventloop.LoopServer` that speaks RESP (made by
    :func:`start_redis_server`)."""

    databases: list[Keyspace]
    learner_store: dict | None = None
    transcript: list | None = None

    def captured(self, clear: bool = True) -> list[tuple[int, str, bytes]]:
        """What crossed the wire since the last call, whole: ``(client number, "client" or
        "server", bytes)`` in order (needs ``start_redis_server(capture=True)``)."""
        if self.transcript is None:
            raise RuntimeError(
                "start the server with start_redis_server(capture=True) to capture bytes"
            )
        found = list(self.transcript)
        if clear:
            del self.transcript[: len(found)]
        return found

    def redis_cli_command(self) -> str:
        """The terminal command that talks to this server: ``redis-cli -h HOST -p PORT``."""
        host, port = self.address
        return f"redis-cli -h {host} -p {port}"

    @property
    def keys(self) -> int:
        """How many keys database 0 holds now (a snapshot, safe from a cell)."""
        if self.learner_store is not None:
            return len(self.learner_store)
        return len(self.databases[0].data)


def start_redis_server(
    *,
    reader: Callable[[], object] | None = None,
    handle_command: Callable[[dict, list[bytes]], bytes] | None = None,
    name: str | None = "redis",
    host: str = "127.0.0.1",
    port: int = 0,
    log_data: bool = True,
    capture: bool = False,
    **options,
) -> RedisServer:
    """Start the course's Redis server on ``(host, port)`` (127.0.0.1, a free port).

    ``reader``: a class like :class:`~tcplessons.resp.RespReader` (yours, from the
    lesson) to parse requests; ``handle_command``: your ``handle_command(store, args)``
    to answer them.  ``log_data=False`` stops recording every read and write (for
    benchmarks).  ``capture=True`` keeps every byte each client sends and every reply,
    whole, for :meth:`RedisServer.captured`.  Other options are
    :func:`~tcplessons.eventloop.start_loop_server`'s.
    Next: connect redis-py to ``server.address``, or run ``server.redis_cli_command()``.
    """
    databases = [Keyspace() for _ in range(DATABASES)]
    store: dict | None = {} if handle_command is not None else None
    counter = iter(range(1, 1 << 62))
    transcript: list | None = [] if capture else None

    def make_protocol() -> RedisProtocol:
        return RedisProtocol(databases, next(counter), reader, handle_command, store, transcript)

    with _registry_lock:  # re-running a cell: the old server of this name stops first
        old = _running.pop(name, None)
    if old is not None:
        old.stop()
    server = RedisServer(
        make_protocol, name=name, host=host, port=port, log_data=log_data, **options
    )
    server.databases, server.learner_store, server.transcript = databases, store, transcript
    with _registry_lock:
        _running[name] = server
    return server


def redis_tools_installed() -> bool:
    """Whether ``redis-cli`` and ``redis-benchmark`` are on this machine's PATH."""
    return bool(shutil.which("redis-cli") and shutil.which("redis-benchmark"))
