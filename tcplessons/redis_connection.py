"""Connection and server commands of the course's Redis server: PING, ECHO, QUIT,
MULTI/EXEC/DISCARD, SELECT, HELLO, CLIENT, CONFIG GET, COMMAND, INFO.

What real clients send before their first real command (``HELLO 3`` from redis-py and
``redis-cli -3``, ``CLIENT SETINFO``, ``COMMAND DOCS`` from redis-cli, ``CONFIG GET save``
from redis-benchmark, ``SELECT`` from ``redis-cli -n``) is answered as Redis 7 answers it,
or with an error the client accepts.  Registered in
:data:`tcplessons.redis_commands.COMMANDS` on import.
"""

from __future__ import annotations

import fnmatch

from .redis_commands import (
    COMMANDS,
    DATABASES,
    NOT_AN_INTEGER,
    REDIS_VERSION,
    Session,
    command,
    execute,
    unknown_subcommand,
    wrong_arity,
)
from .resp import OK, bulk, error, integer, parse_integer

__all__: list[str] = []


# -- connection and server -----------------------------------------------------------------------


@command("PING", -1)
def cmd_ping(session: Session, args: list[bytes]) -> bytes:
    if len(args) == 1:
        return b"+PONG\r\n"
    if len(args) == 2:
        return bulk(args[1])
    return wrong_arity("ping")


@command("ECHO", 2)
def cmd_echo(session: Session, args: list[bytes]) -> bytes:
    return bulk(args[1])


@command("QUIT", -1)
def cmd_quit(session: Session, args: list[bytes]) -> bytes:
    session.closing = True
    return OK


@command("MULTI", 1)
def cmd_multi(session: Session, args: list[bytes]) -> bytes:
    if session.queued is not None:
        return error("ERR MULTI calls can not be nested")
    session.queued, session.transaction_failed = [], False
    return OK


@command("EXEC", 1)
def cmd_exec(session: Session, args: list[bytes]) -> bytes:
    if session.queued is None:
        return error("ERR EXEC without MULTI")
    queued, session.queued = session.queued, None
    if session.transaction_failed:
        return error("EXECABORT Transaction discarded because of previous errors.")
    return b"*%d\r\n" % len(queued) + b"".join(execute(session, args) for args in queued)


@command("DISCARD", 1)
def cmd_discard(session: Session, args: list[bytes]) -> bytes:
    if session.queued is None:
        return error("ERR DISCARD without MULTI")
    session.queued = None
    return OK


@command("SELECT", 2)
def cmd_select(session: Session, args: list[bytes]) -> bytes:
    index = parse_integer(args[1])
    if index is None:
        return NOT_AN_INTEGER
    if not 0 <= index < len(session.databases):
        return error("ERR DB index is out of range")
    session.db = session.databases[index]
    return OK


@command("HELLO", -1)
def cmd_hello(session: Session, args: list[bytes]) -> bytes:
    if len(args) > 1:
        version = parse_integer(args[1])
        if version is None:
            return error("ERR Protocol version is not an integer or out of range")
        if version not in (2, 3):
            return error("NOPROTO unsupported protocol version")
        i = 2
        while i < len(args):
            option = args[i].upper()
            if option == b"SETNAME" and i + 1 < len(args):
                session.name = args[i + 1]
                i += 2
            elif option == b"AUTH" and i + 2 < len(args):
                i += 3  # no users here: every client is the default user
            else:
                return error(
                    f"ERR Syntax error in HELLO option '{args[i].decode(errors='replace')}'"
                )
        session.proto = version
    fields = [
        (bulk(b"server"), bulk(b"redis")),
        (bulk(b"version"), bulk(REDIS_VERSION.encode())),
        (bulk(b"proto"), integer(session.proto)),
        (bulk(b"id"), integer(session.id)),
        (bulk(b"mode"), bulk(b"standalone")),
        (bulk(b"role"), bulk(b"master")),
        (bulk(b"modules"), b"*0\r\n"),
    ]
    return session.map(fields)


@command("CLIENT", -2)
def cmd_client(session: Session, args: list[bytes]) -> bytes:
    sub = args[1].upper()
    if sub == b"SETNAME" and len(args) == 3:
        if any(c <= 32 or c > 126 for c in args[2]):
            return error("ERR Client names cannot contain spaces, newlines or special characters.")
        session.name = args[2] or None
        return OK
    if sub == b"GETNAME" and len(args) == 2:
        return bulk(session.name) if session.name else session.null
    if sub == b"ID" and len(args) == 2:
        return integer(session.id)
    if sub in (b"SETNAME", b"GETNAME", b"ID"):
        return wrong_arity(f"client|{sub.lower().decode()}")
    return unknown_subcommand(args)


#: What CONFIG GET answers: enough for the clients that ask (redis-benchmark asks for
#: ``save`` and ``appendonly`` before it starts).  The course's server saves nothing.
CONFIG = {b"save": b"", b"appendonly": b"no", b"databases": b"%d" % DATABASES, b"port": b"0"}


@command("CONFIG", -2)
def cmd_config(session: Session, args: list[bytes]) -> bytes:
    sub = args[1].upper()
    if sub == b"GET":
        if len(args) < 3:
            return wrong_arity("config|get")
        found = {}
        for pattern in args[2:]:
            for name, value in CONFIG.items():
                if fnmatch.fnmatchcase(name, pattern.lower()):
                    found[name] = value
        return session.map([(bulk(k), bulk(v)) for k, v in found.items()])
    if sub in (b"SET", b"RESETSTAT", b"REWRITE"):
        return error(f"ERR CONFIG {sub.decode()} is not supported by the course's server")
    return unknown_subcommand(args)


@command("COMMAND", -1)
def cmd_command(session: Session, args: list[bytes]) -> bytes:
    if len(args) == 1:
        return b"*0\r\n"  # no command details: clients fall back to their own help
    sub = args[1].upper()
    if sub == b"COUNT":
        return integer(len(COMMANDS))
    if sub == b"DOCS":
        return session.map([])  # redis-cli asks on start; no docs means no hints
    return unknown_subcommand(args)


@command("INFO", -1)
def cmd_info(session: Session, args: list[bytes]) -> bytes:
    keys = sum(1 for db in session.databases for _ in db.data)
    text = (
        f"# Server\r\nredis_version:{REDIS_VERSION}\r\nredis_mode:standalone\r\n\r\n# Keyspace\r\n"
    )
    text += f"db0:keys={keys},expires=0,avg_ttl=0\r\n" if keys else ""
    return bulk(text.encode())
