# %% [markdown]
# # 08 · A mini Redis: a real protocol, real clients
#
# The article this course grew out of put its echo server on port 6379 without saying
# why. Port 6379 belongs to **Redis**, a key-value store that millions of programs talk
# to over TCP. In this lesson you build what belongs on that port: a server that speaks
# Redis's protocol, **RESP**, well enough that the real, unmodified Redis clients work
# with it — the Python library **redis-py**, and the terminal programs `redis-cli` and
# `redis-benchmark`.
#
# RESP uses both framing rules of lesson 04 at once: lines for headers, length prefixes
# for payloads. And a Redis server is an event loop, like lesson 07's: one thread serves
# every client. You will:
#
# - watch the bytes a real client sends and the bytes Redis answers;
# - write a `RespReader` that turns a stream of bytes into commands, and a
#   `handle_command` that answers them exactly as Redis does;
# - meet **pipelining** and a classic trap that makes a server a hundred times slower;
# - plug your parts into the course's server and point redis-py at it.

# %%
import tcplessons
print(tcplessons.versions())  # the versions you run: paste this line if you ask for help
tcplessons.explain_errors()  # adds a line under socket errors: what they mean, which lesson

import socket
import time

import redis  # redis-py, the Python client for Redis (installed with the course)

from tcplessons import check, start_redis_server, start_server, stop_all
from tcplessons.redis_commands import Session, execute
from tcplessons.resp import NULL, RespReader as CourseRespReader, array, bulk, error, integer, simple

print("redis-py", redis.__version__)

# %% [markdown]
# ## A real client, and the bytes it sends
#
# `start_redis_server()` starts the course's Redis server: like every server in this
# course it listens on 127.0.0.1 and a free port, and is ready when the call returns.
# With `capture=True` it keeps every byte that crosses the wire, so we can look.
#
# `redis.Redis(host, port)` is redis-py's client. `protocol=2` asks for RESP2, the
# version of the protocol this lesson teaches (more on version 3 below).

# %%
server = start_redis_server(capture=True)
client = redis.Redis(*server.address, protocol=2)

print(client.set("greeting", "hello"))
print(client.get("greeting"))
print(client.get("nobody"))

# %% [markdown]
# Three calls, three answers: `True`, `b'hello'` and `None`. Here is what travelled, in
# order — `client` is what redis-py sent, `server` what came back:

# %%
def show_wire(captured):
    for number, who, data in captured:
        print(f"{who:>6}: {data!r}")


show_wire(server.captured())

# %% [markdown]
# Read the `SET` line slowly:
#
# ```
# *3\r\n  $3\r\nSET\r\n  $8\r\ngreeting\r\n  $5\r\nhello\r\n
# ```
#
# - `*3\r\n` — an **array** of 3 elements follows;
# - `$3\r\nSET\r\n` — a **bulk string** of 3 bytes: `SET`, then `\r\n`;
# - `$8\r\ngreeting\r\n` and `$5\r\nhello\r\n` — the key and the value.
#
# Every command a client sends is an array of bulk strings. The header lines (`*3`,
# `$8`) end in `\r\n` like the lines of lesson 04; the payloads are found by their
# **length**, like lesson 04's length prefix, so a value may hold any bytes — even
# `\r\n` — without confusing anybody.
#
# Before its first command, redis-py also introduced itself: `CLIENT SETINFO LIB-NAME`
# and `LIB-VER` tell the server the client library's name and version (Redis 7.2 shows
# them in `CLIENT LIST`). The course's server, like Redis 7.0, does not know that
# subcommand and says so with an error; redis-py expects that from older servers and
# carries on. A server must answer such things, never hang up on them.
#
# `server.captured()` returns what crossed the wire since the last call and then forgets
# it, so each call shows only the new conversation.

# %% [markdown]
# ## RESP2's five replies
#
# A reply starts with one byte that says its type:
#
# | first byte | type | example | redis-py gives |
# |---|---|---|---|
# | `+` | simple string | `+OK\r\n` | `True` (for OK) or `'OK'` |
# | `-` | error | `-ERR unknown command 'FOO', ...\r\n` | raises `ResponseError` |
# | `:` | integer | `:42\r\n` | `42` |
# | `$` | bulk string | `$5\r\nhello\r\n`, empty: `$0\r\n\r\n`, null: `$-1\r\n` | `b'hello'`, `b''`, `None` |
# | `*` | array | `*2\r\n$1\r\na\r\n$1\r\nb\r\n` | `[b'a', b'b']` |
#
# Note the difference between `$0\r\n\r\n` (an empty string: the key exists and holds
# nothing) and `$-1\r\n` (null: there is no such key). The course has small functions
# that build each reply:

# %%
print(simple("OK"))
print(error("ERR something went wrong"))
print(integer(42))
print(bulk(b"hello"), bulk(b""), NULL)
print(array([b"a", b"b"]))

# %% [markdown]
# ## Inline commands: what `nc` and telnet send
#
# A person typing into `nc` does not type `*3\r\n$3\r\n...`. So Redis also accepts an
# **inline command**: a line of words separated by spaces, ending in `\r\n` or `\n`.
# Any line that does not start with `*` is read this way. Try it from a terminal:

# %%
print(server.nc_command())
print(server.redis_cli_command())

# %% [markdown]
# The port is the one this server got from the operating system: yours will differ from
# run to run, so copy the command the cell prints. `nc` sends exactly what you type.
# `redis-cli` is Redis's own terminal client: it sends arrays like redis-py and prints
# replies nicely. Where to get them:
#
# - **Linux**: `nc` is usually there (Debian/Ubuntu: `sudo apt install netcat-openbsd`);
#   `redis-cli` and `redis-benchmark` come with `sudo apt install redis-tools`, the real
#   server with `redis-server` (other distributions: the `redis` or `valkey` package).
# - **macOS**: `nc` comes with the system; `brew install redis` installs `redis-cli`,
#   `redis-benchmark` and `redis-server`.
# - **Windows**: there is no native `redis-cli` or `nc`. Use the course's own
#   `python -m tcplessons nc 127.0.0.1 PORT` in place of `nc`, redis-py from Python (as
#   this notebook does), or install the Linux tools inside WSL.
#
# The same conversation through a plain socket, here in the notebook:

# %%
with socket.create_connection(server.address, timeout=5) as sock:
    sock.sendall(b"PING\r\nSET  color  blue\nGET color\r\nECHO hello\r\n")
    sock.shutdown(socket.SHUT_WR)  # we are done sending: the server answers, then hangs up
    replies = b""
    while chunk := sock.recv(4096):
        replies += chunk
print(replies)

# %% [markdown]
# Real Redis also understands quotes in an inline command (`ECHO "two words"` is one
# argument); the course's server does too. Your reader in Exercise 1 need not: there,
# words are simply separated by spaces or tabs.

# %% [markdown]
# ## What real clients send before you expect it
#
# A toy server that knows only `GET` and `SET` breaks the moment a real client
# connects, because real clients start with housekeeping:
#
# - redis-py 8 (without `protocol=2`) starts with `HELLO 3`: "let us speak RESP3", the
#   newer version of the protocol, which adds types such as maps and a null of its own;
# - `redis-cli` asks `COMMAND DOCS` for its help texts; `redis-cli -3` sends `HELLO 3`;
#   `redis-cli -n 2` sends `SELECT 2` (Redis has numbered databases);
# - `redis-benchmark` asks `CONFIG GET save` and `CONFIG GET appendonly` — two
#   commands in one write — before any test.
#
# The course's server answers all of these as Redis 7 does (or with an error the client
# accepts). Watch redis-py's default start:

# %%
server.captured()  # forget the conversation above
default_client = redis.Redis(*server.address)  # RESP3, as redis-py 8 prefers
print(default_client.get("greeting"))
for number, who, data in server.captured():
    if b"CLIENT" in data or b"unknown subcommand" in data:
        continue  # redis-py's introductions, explained below
    print(f"{who:>6}: {data[:70]!r}{'…' if len(data) > 70 else ''}")

# %% [markdown]
# The reply to `HELLO 3` starts with `%7`: a RESP3 **map** of 7 pairs. Everything else
# in this lesson is RESP2, which every client still speaks.
#
# The cell left out redis-py's `CLIENT ...` lines and their error replies: besides the
# `CLIENT SETINFO` introductions seen above, redis-py 8 sends `CLIENT
# MAINT_NOTIFICATIONS ON ...`, asking a managed Redis service to announce maintenance
# (a server moving elsewhere) ahead of time. The course's server, like Redis 7, does not
# know it and answers with an error, which redis-py accepts.

# %% [markdown]
# ## Exercise 1: `RespReader`
#
# Write a sans-IO reader, like lesson 04's `LineReader`: bytes in, commands out, no
# sockets. `RespReader().feed(data)` takes the next bytes that arrived and returns the
# list of commands they complete, each a list of `bytes` arguments, in order.
#
# - It reads arrays of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n` →
#   `[b"GET", b"k"]`) and inline commands (`GET k\r\n` → `[b"GET", b"k"]`; words are
#   separated by runs of spaces or tabs; the line ends in `\r\n` or `\n`; an empty line
#   is no command).
# - Data may be split anywhere — inside a length, between `\r` and `\n`, inside a
#   payload — and one feed may hold many commands: clients **pipeline**, sending several
#   commands before they read any reply (more on that below). Keep what is unfinished
#   for the next feed.
# - A payload is exactly as many **bytes** as its length says, whatever they are.
# - An array count of zero or less (`*0`, `*-1`) is no command.
# - `feed(b"")` means the client hung up: return `[]`, or raise `EOFError` if part of a
#   command was left unfinished.
# - Malformed input raises `ValueError` (or a subclass of it) whose message starts with
#   `Protocol error:`, as Redis's does; the server then answers
#   `-ERR Protocol error: ...` and hangs up, because after bytes it cannot read it no
#   longer knows where the next command starts. Malformed is: a length that is not
#   plain decimal digits as Redis reads them — an optional `-`, then `0` or digits
#   without a leading zero (`+5`, ` 5`, `1_0`, `05`, `-0` and `abc` are all malformed;
#   careful, Python's `int()` accepts several of them) —, a bulk length below zero in a
#   request, an array element that is not a bulk string.
# - Bound memory: a bulk longer than 512 MiB is a protocol error as soon as its length
#   is read, and so is any line — an inline command, or a `*` or `$` header — that has
#   grown past 64 KiB without its end (Redis says `too big inline request`, `too big
#   mbulk count string`, `too big bulk count string`): raise it then, not after
#   buffering more.
# - Each `RespReader` keeps its own buffer (in `self`, set up in `__init__`): every
#   client of a server gets its own reader.
#
# For example `r = RespReader()`, then `r.feed(b"*1\r\n$4\r\nPI")` returns `[]` and
# `r.feed(b"NG\r\nECHO hi\r\n")` returns `[[b"PING"], [b"ECHO", b"hi"]]`.
#
# A `bytearray` buffer and its `find()` method, with an index that walks through it,
# make a good start; lesson 04's readers are the model. Careful: a slice of a
# `bytearray` is a `bytearray`; give each argument back as `bytes(...)`.

# %% tags=["exercise"]
class RespReader:
    def feed(self, data):
        raise NotImplementedError("Write RespReader.feed(data): return the commands data completes, each a list of bytes")


# %% tags=["check"]
check("RespReader", RespReader)

# %% [markdown]
# The course's own reader passes the same checks. Here it reads a stream cut in the
# most awkward places, including between `\r` and `\n` and inside a payload that
# itself contains `\r\n`:

# %%
stream = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n" + b"GET k\r\n" + b"*0\r\n"
for size in (1, 5, 4096):
    reader = CourseRespReader()
    found = []
    for start in range(0, len(stream), size):
        found += reader.feed(stream[start : start + size])
    print(f"pieces of {size:4}:", found)

# %% [markdown]
# And bad input gets Redis's words:

# %%
for bad in (b"*1\r\n$+4\r\nPING\r\n", b"*1\r\n$1073741824\r\n", b"*1\r\n:4\r\n"):
    try:
        CourseRespReader().feed(bad)
    except ValueError as problem:
        print(f"{bad!r:32} -> ValueError: {problem}")

# %% [markdown]
# ## Exercise 2: `handle_command(store, args)`
#
# Now answer a command. `store` is a `dict` (the database: keys and values are
# `bytes`), `args` a command from your reader. Use the `store` you are given — the
# server hands every command of every client the same one; the checks give you stores
# that already hold keys, and look inside them afterwards. Return the exact RESP reply,
# as `bytes`:
#
# | command | reply |
# |---|---|
# | `PING` / `PING msg` | `+PONG\r\n` / `msg` as a bulk string |
# | `ECHO msg` | `msg` as a bulk string |
# | `SET key value` | `+OK\r\n` (more arguments: `-ERR syntax error\r\n`, see below) |
# | `GET key` | the value as a bulk string; `$-1\r\n` when there is no such key |
# | `DEL key...` | `:n\r\n`, the number of keys removed |
# | `EXISTS key...` | `:n\r\n`, how many arguments exist (`EXISTS k k` counts `k` twice) |
# | `INCR key` | `:n\r\n`, the new number (a missing key counts from 0) |
#
# - Command names are case-insensitive (`get`, `GeT`); keys and values are bytes, kept
#   exactly as they came.
# - `INCR` accepts only numbers written the way Redis writes them: an optional `-`,
#   digits, no `+`, no leading zeros, no spaces, no `_`, not `-0`, and within 64 bits
#   (`-9223372036854775808` to `9223372036854775807`); anything else — a stored
#   `9223372036854775808` too — gets
#   `-ERR value is not an integer or out of range\r\n`. Only `INCR` of a stored
#   `9223372036854775807`, whose result would not fit, gets
#   `-ERR increment or decrement would overflow\r\n`.
# - A wrong number of arguments gets
#   `-ERR wrong number of arguments for 'get' command\r\n` (the name in lower case).
# - An unknown command gets Redis 7's
#   `-ERR unknown command 'foo', with args beginning with: 'bar' 'baz' \r\n` for
#   `[b"foo", b"bar", b"baz"]`. The name appears as the client sent it (`foo` stays
#   `foo`), cut to its first 128 bytes. Then the list, built as Redis builds it: while
#   the list so far is shorter than 128 bytes, add the next argument cut to
#   (128 − length of the list so far) bytes, in quotes, followed by a space. So the list
#   stops at the first argument that takes it to 128 bytes or more, and may end a few
#   bytes past 128 (its closing quote and space). Finally `\r` and `\n` anywhere in the
#   message become spaces, so the error never breaks the protocol.
# - `SET` here takes exactly a key and a value. Real Redis also accepts options after
#   them (`NX`, `XX`, `EX seconds`, `GET`, ...) and answers `-ERR syntax error` only for
#   arguments it does not understand; this exercise leaves the options out, so any
#   argument after the value gets `-ERR syntax error\r\n`.
# - Never raise: a client's mistake gets an error reply.

# %% tags=["exercise"]
def handle_command(store, args):
    raise NotImplementedError("Write handle_command(store, args): return the RESP reply for args, as bytes")


# %% tags=["check"]
check("handle_command", handle_command)

# %% [markdown]
# ## Pipelining: many commands in one read
#
# A client that waits for each reply before sending the next command spends most of its
# time waiting: one round trip per command. **Pipelining** sends many commands at once
# and reads all the replies afterwards. redis-py does it with `client.pipeline()`:

# %%
pipe = client.pipeline(transaction=False)
for _ in range(5):
    pipe.incr("visits")
print(pipe.execute())
show_wire(server.captured())

# %% [markdown]
# Five commands left in one write and arrived in one read; the server answered all
# five, then wrote the five replies at once. (redis-py's `incr()` sends `INCRBY key 1`,
# a cousin of `INCR`.) That is why your reader must return *every* command of a feed,
# and why the server collects the replies of a read before writing. How much does it
# save? 500 `INCR`s one at a time, then in pipelines of 100:

# %% tags=["nbval-ignore-output"]
def requests_per_second(client, total=500, pipeline=1):
    started = time.perf_counter()
    for _ in range(total // pipeline):
        pipe = client.pipeline(transaction=False)
        for _ in range(pipeline):
            pipe.incr("counter")
        pipe.execute()
    return total / (time.perf_counter() - started)


one_by_one = requests_per_second(client, pipeline=1)
pipelined = requests_per_second(client, pipeline=100)
server.captured()  # forget what these sent
print(f"one at a time:       {one_by_one:10,.0f} requests/s")
print(f"pipelines of 100:    {pipelined:10,.0f} requests/s")

# %%
print("pipelining is at least 3 times faster:", pipelined > 3 * one_by_one)

# %% [markdown]
# ## The Nagle trap
#
# Here is a Redis server written the obvious way, with lesson 05's thread per client
# and the course's reader and commands: for each reply, `sendall()`. And next to it
# the same server that joins the replies of one read into one `sendall()`.

# %%
def serve_redis(conn, *, batch):
    reader, session = CourseRespReader(), Session()
    while data := conn.recv(65536):
        replies = [execute(session, args) for args in reader.feed(data)]
        if batch:
            conn.sendall(b"".join(replies))  # one write per read
        else:
            for reply in replies:
                conn.sendall(reply)  # one write per reply


def serve_one_write_per_reply(conn):
    serve_redis(conn, batch=False)


def serve_batched(conn):
    serve_redis(conn, batch=True)


def serve_one_write_per_reply_nodelay(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    serve_redis(conn, batch=False)

# %% [markdown]
# Both are correct: the client gets the same bytes. Now send them pipelines of 10
# commands, 20 times:

# %% tags=["nbval-ignore-output"]
rates = {}
for handler in (serve_one_write_per_reply, serve_batched, serve_one_write_per_reply_nodelay):
    with start_server(handler) as nagle_server:
        nagle_client = redis.Redis(*nagle_server.address, protocol=2)
        rates[handler.__name__] = requests_per_second(nagle_client, total=200, pipeline=10)
        nagle_client.close()
    print(f"{handler.__name__:<36} {rates[handler.__name__]:10,.0f} requests/s")

# %%
slow, fast = rates["serve_one_write_per_reply"], rates["serve_batched"]
print("a write per reply is at least 5 times slower:", fast > 5 * slow)
print("TCP_NODELAY removes the stall:", rates["serve_one_write_per_reply_nodelay"] > 3 * slow)

# %% [markdown]
# A write per reply collapses to a few hundred requests a second. The figures above were
# measured when this notebook was built, on Linux, where each such pipeline takes about
# 40 ms however fast the machine; yours will differ. Other systems delay
# acknowledgements for other times: Windows waits up to 200 ms by default (its
# `TcpDelAckTicks` setting), so the stall there is longer still. Two polite rules of TCP
# meet:
#
# - **Nagle's algorithm** (the sender): while a small segment is unacknowledged, hold
#   further small writes back and send them together once the acknowledgement comes.
#   It saves the network from floods of tiny packets.
# - **Delayed acknowledgement** (the receiver): do not acknowledge at once; wait a while
#   (about 40 ms on Linux) in case there is data to send back, and carry the
#   acknowledgement on it.
#
# The server sends the first reply; the second waits for its acknowledgement (Nagle).
# The client, waiting for all ten replies before sending anything, has nothing to carry
# an acknowledgement on, so it delays it (40 ms). Then everything flows — until the next
# pipeline. Two fixes: write the replies of one read **together** (one write, no small
# second segment), or turn Nagle off for the socket with **`TCP_NODELAY`**. Redis does
# both, and so does the course's event loop: it queues every reply of a turn in the
# connection's outbox and sends them with one `send()`.

# %% [markdown]
# ## Your parts in the course's server
#
# `start_redis_server` takes your reader class and your command handler and runs them
# on the event loop of lesson 07. Then redis-py talks to the server *you* wrote. (Use
# `protocol=2`: your server speaks RESP2, and `execute_command("INCR", ...)`, because
# redis-py's `incr()` sends `INCRBY`, which the exercise leaves out.)

# %%
if check("RespReader", RespReader).passed and check("handle_command", handle_command).passed:
    mine = start_redis_server(name="mine", reader=RespReader, handle_command=handle_command)
    mine_client = redis.Redis(*mine.address, protocol=2)
    print(mine_client.set("language", "Python"), mine_client.get("language"))
    print(mine_client.execute_command("INCR", "visits"), mine_client.exists("language", "nobody"))
    pipe = mine_client.pipeline(transaction=False)
    for _ in range(3):
        pipe.execute_command("INCR", "visits")
    print(pipe.execute())
    print("try it from a terminal:", mine.redis_cli_command())
else:
    print("RespReader and handle_command do not pass their checks yet: come back to this cell when they do.")

# %% [markdown]
# ## Measured against the real Redis
#
# Real Redis is written in C; the course's server is Python. How far apart are they?
# The course measures both side by side with `redis-benchmark` (50 clients, `-P 1` one
# request in flight per client, `-P 16` sixteen pipelined). It needs the real
# `redis-server` and `redis-benchmark` installed (see the install notes above; they do
# not come with the course's Python packages), and runs from a terminal in the
# course's repository root — the folder that holds `notebooks/` and `tests/` — not from
# this notebook:
#
# ```
# python tests/benchmarks/bench_redis.py
# ```
#
# It prints requests per second for each server and their ratio; the figures depend on
# your machine, so none are printed here.
#
# Without pipelining, both spend most of their time in the kernel's TCP code and in
# waiting, and the Python server gets within reach of Redis. With pipelining the
# per-command work shows: Redis parses and answers a command in well under a
# microsecond, Python needs a few. The same benchmark runs every test of the default
# set against the course's server, from `PING` to `LRANGE_600`:
# `redis-benchmark -h 127.0.0.1 -p PORT -q`.

# %% [markdown]
# ## Recap
#
# - **RESP** frames with both rules of lesson 04: `\r\n`-terminated header lines and
#   length-prefixed payloads, so values are binary-safe. Clients send arrays of bulk
#   strings; a person in `nc` sends inline commands.
# - `$0\r\n\r\n` is an empty string, `$-1\r\n` is "no value". Errors are replies, never
#   dropped connections — except for a **protocol error**, after which Redis answers
#   `-ERR Protocol error: ...` and hangs up.
# - Check lengths before trusting them: `int()` is more lenient than the protocol, and a
#   client can announce a gigabyte.
# - Real clients send housekeeping first (`HELLO`, `CLIENT SETINFO`, `COMMAND DOCS`,
#   `CONFIG GET`, `SELECT`); a server must answer it.
# - **Pipelining** puts many commands in one read; answer them all and write the
#   replies **together**. A write per reply meets Nagle's algorithm and delayed
#   acknowledgements: about 40 ms lost per pipeline. `TCP_NODELAY` also avoids it.
#
# Close the clients and stop the servers:

# %%
for c in (client, default_client):
    c.close()
stop_all()
print(tcplessons.running_servers())
