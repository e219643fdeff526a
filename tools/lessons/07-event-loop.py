# %% [markdown]
# # 07 — One thread, many callers: the event loop
#
# Lesson 06's chat server gives every member a thread of its own. Each thread spends
# almost all its life waiting in `recv()` for a member who is not typing. That works, but
# every waiting thread costs memory, and a busy room keeps many threads taking turns.
#
# Real servers — Redis, nginx, Node.js, Python's `asyncio` — do it differently: **one
# thread** waits for *any* of its callers to be ready, does the little work that caller
# needs right now, and goes back to waiting. That thread runs an **event loop**: wait for
# events ("this socket has data", "that socket has room to send"), handle them, repeat.
#
# In this lesson you will:
#
# 1. make sockets **non-blocking** and see why asking them again and again uses all the CPU it is given,
# 2. wait for many sockets at once with `selectors`, and see a classic mistake spin,
# 3. keep memory bounded with **backpressure** when a caller never reads,
# 4. watch one slow handler stall every caller, and fix it,
# 5. write an event-loop echo server yourself: `echo_loop(listener, wakeup)`,
# 6. do the same with `asyncio`, and write `call_all(addresses, message, timeout)`,
# 7. measure threads against event loops on your own machine, and plot the results.

# %%
import tcplessons

print(tcplessons.versions())  # the versions you run: paste this line if you ask for help
tcplessons.explain_errors()  # adds a line under socket errors: what they mean, which lesson

import asyncio
import select
import selectors
import socket
import statistics
import sys
import threading

import matplotlib.pyplot as plt

from tcplessons import (
    ChatBot,
    Protocol,
    check,
    start_async_chat_server,
    start_async_server,
    start_loop_echo_server,
    start_loop_server,
    stop_all,
)
from tcplessons.measure import (
    fanout_per_second,
    idle_memory_per_caller,
    raise_fd_limit,
    thread_cpu_seconds,
)

# %% [markdown]
# ## 1. Non-blocking sockets
#
# Every socket call so far **blocked**: `recv()` waited until data arrived, `accept()`
# until a caller rang, `sendall()` until the operating system had taken every byte. A thread that
# waits like that can do nothing else, which is why lesson 05 gave each caller a thread.
#
# `sock.setblocking(False)` makes a socket **non-blocking**: a call that would have to
# wait raises `BlockingIOError` at once instead ("try again later"). We make one phone
# call on 127.0.0.1 and ask the server's end for data before anyone has sent any:

# %%
listener = socket.create_server(("127.0.0.1", 0))
caller = socket.create_connection(listener.getsockname())
conn, _ = listener.accept()
conn.setblocking(False)

try:
    conn.recv(1024)
except BlockingIOError as exc:
    print("nothing to read yet:", type(exc).__name__)

# %% [markdown]
# So when *should* we call `recv()`? `select.select(readers, writers, [], timeout)` asks
# the operating system to **wait until at least one socket is ready**: readable (data
# or a hang-up waits, so `recv()` will not block) or writable (there is room in the send
# buffer, so `send()` will not block). It returns the ready ones. While it waits, the
# thread uses no CPU at all.

# %%
caller.sendall(b"hello")
readable, writable, _ = select.select([conn], [], [], 5.0)
print("readable:", readable == [conn])
print(conn.recv(1024))

# %% [markdown]
# Sending has the same twist. The operating system keeps a **send buffer** for each socket; a
# non-blocking `send()` copies what fits and **returns how many bytes it took** — often
# fewer than you gave it. Once the buffer is full (the caller is not reading), the next
# `send()` raises `BlockingIOError`. The bytes that did not fit are *your* job to keep and
# send later. (That is the mistake lesson 03 caught with `send()` vs `sendall()`: here
# `sendall()` is no escape, since on a non-blocking socket it raises too.)
#
# Below, `memoryview(big)[sent:]` is "the rest of `big`, from byte `sent` on" **without
# copying it**: slicing `big[sent:]` would copy up to 50 MB on every try. (A `bytearray`
# outbox with `del outbox[:sent]` works too, as you will see.)

# %%
big = b"x" * 50_000_000
sent = conn.send(big)
print("send() took only part:", 0 < sent < len(big))
for attempt in range(100):  # bounded: the buffer is full after one or two tries
    try:
        sent += conn.send(memoryview(big)[sent:])
    except BlockingIOError:
        print("the next send() would have to wait: BlockingIOError")
        break

# %%
conn.close()
caller.close()
listener.close()

# %% [markdown]
# ### Asking again and again uses all the CPU it is given
#
# With non-blocking sockets, a loop *could* just try every socket over and over and catch
# `BlockingIOError`. That is called **busy-polling**. Below, two readers wait for a caller
# who says nothing for one second: one busy-polls, the other waits in `select()`. We
# measure the **CPU time** each reader thread used during that second: the time a CPU
# core actually spent running it (not the time that passed on the clock). To know what
# "all the CPU it is given" means on this machine right now, we also measure a **pure
# spin** (a loop that does nothing at all) the same way, and compare with it.
# (`thread_cpu_seconds` reads one thread's CPU time on Linux; on macOS and Windows Python
# cannot, so it counts the whole notebook process: keep other cells idle while it runs.)

# %%
def busy_poll(sock, stop):
    """Ask the socket again and again whether there is anything to read."""
    sock.setblocking(False)
    while not stop.is_set():
        try:
            if not sock.recv(1024):
                return
        except BlockingIOError:
            continue  # nothing yet: ask again at once


def wait_in_select(sock, stop):
    """Let the operating system wake us when the socket is readable."""
    while not stop.is_set():
        readable, _, _ = select.select([sock], [], [], 0.1)  # 0.1 s: to notice stop
        if readable and not sock.recv(1024):
            return


def pure_spin(sock, stop):
    """The reference: a loop that does nothing but go round."""
    while not stop.is_set():
        pass


def idle_cpu(reader, seconds=1.0):
    """CPU seconds `reader` uses in `seconds` of a caller who says nothing."""
    with socket.create_server(("127.0.0.1", 0)) as doorbell:
        quiet_caller = socket.create_connection(doorbell.getsockname())
        line, _ = doorbell.accept()
    stop = threading.Event()
    thread = threading.Thread(target=reader, args=(line, stop), daemon=True)
    thread.start()
    before = thread_cpu_seconds(thread)
    threading.Event().wait(seconds)  # the measurement: one second of silence
    used = thread_cpu_seconds(thread) - before
    stop.set()
    quiet_caller.close()
    thread.join(5)
    line.close()
    return used


idle = {name: idle_cpu(f) for name, f in [("pure spin", pure_spin), ("busy-poll", busy_poll), ("select", wait_in_select)]}

# %% tags=["nbval-ignore-output"]
for name, seconds in idle.items():
    share = seconds / idle["pure spin"]
    print(f"{name:>10}: {seconds:.3f} CPU seconds in one second of silence ({share:.0%} of the pure spin's)")

# %%
print("busy-polling used more CPU than waiting in select():", idle["busy-poll"] > idle["select"])
print("waiting in select() used under a tenth of what the pure spin got:", idle["select"] < 0.1 * idle["pure spin"])

# %% [markdown]
# ## 2. One thread, many sockets: `selectors`
#
# `select.select()` takes the whole list of sockets every time it is called. The
# `selectors` module keeps the list for you: you **register** each socket once with the
# events it is interested in — `EVENT_READ`, `EVENT_WRITE` or both — and
# `selector.select()` returns `(key, events)` pairs for the sockets that are ready.
# `key.fileobj` is the socket. (It uses the best mechanism of your system: `epoll` on
# Linux, `kqueue` on macOS; on Windows it is `select()` itself, which Python there limits
# to 512 sockets.)
#
# An echo server in one thread then looks like this:
#
# - the **listener** is registered for `EVENT_READ`: readable means a caller is waiting
#   in the backlog, so `accept()` will not block;
# - each **caller** is registered for `EVENT_READ`; what it sends goes into its
#   **outbox**, the bytes waiting to be sent back to it;
# - when a caller is writable, `send()` as much of its outbox as the operating system takes, and
#   keep the rest for next time.
#
# One more socket: `wakeup`. The loop spends its life in `selector.select()`; how does
# another thread (a notebook cell) tell it to stop? Closing the listener from another
# thread does **not** wake it: a waiting `select()` sits out its whole timeout. Shutting
# the listener down (`listener.shutdown(socket.SHUT_RDWR)`) wakes it on Linux only; on
# macOS and Windows that raises or wakes nothing. Every real event loop, `asyncio`'s
# included, uses a **self-pipe** instead. `socket.socketpair()` returns two sockets
# already connected to each other, like both ends of one phone call inside one program:
# one end, `wakeup`, is registered with the selector, and the other thread sends a byte
# to the other end (or closes it). Readable `wakeup` means: stop.
#
# Here is a first version. Read the line marked `<-`: it registers every caller for
# reading **and writing**, as some well-known tutorials do.

# %%
def spinning_echo(listener, wakeup):
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(wakeup, selectors.EVENT_READ)
    outboxes = {}
    while True:
        for key, events in selector.select():
            sock = key.fileobj
            if sock is wakeup:  # another thread asked us to stop
                for caller in outboxes:
                    caller.close()
                selector.close()
                return
            if sock is listener:
                caller, _ = listener.accept()
                caller.setblocking(False)
                outboxes[caller] = b""
                selector.register(caller, selectors.EVENT_READ | selectors.EVENT_WRITE)  # <-
                continue
            if events & selectors.EVENT_READ:
                data = sock.recv(65536)
                if not data:  # hung up
                    selector.unregister(sock)
                    del outboxes[sock]
                    sock.close()
                    continue
                outboxes[sock] += data
            if events & selectors.EVENT_WRITE and outboxes[sock]:
                sent = sock.send(outboxes[sock])
                outboxes[sock] = outboxes[sock][sent:]


# %% [markdown]
# It works: three callers each get their echo. Then they fall silent, and we measure the
# loop thread's CPU time for one second, as before.

# %%
def start_in_thread(loop_function):
    """Run loop_function(listener, wakeup) in a thread; return (address, wake_end, thread)."""
    listener = socket.create_server(("127.0.0.1", 0))
    wakeup, wake_end = socket.socketpair()
    thread = threading.Thread(target=loop_function, args=(listener, wakeup), daemon=True)
    thread.start()
    thread.sockets = (listener, wakeup)  # closed by stop_thread below
    return listener.getsockname(), wake_end, thread


def stop_thread(wake_end, thread):
    wake_end.send(b"!")  # the self-pipe: wakes the loop's select()
    thread.join(5)
    for sock in (wake_end, *thread.sockets):
        sock.close()
    return not thread.is_alive()


address, wake_end, spinner = start_in_thread(spinning_echo)
callers = [socket.create_connection(address, timeout=5) for _ in range(3)]
for i, sock in enumerate(callers):
    sock.sendall(b"hi %d" % i)
    print(sock.recv(1024))

# %%
before = thread_cpu_seconds(spinner)
threading.Event().wait(1.0)  # the measurement: one second in which nobody says anything
idle["always writable"] = thread_cpu_seconds(spinner) - before
print("the loop stopped when woken:", stop_thread(wake_end, spinner))
for sock in callers:
    sock.close()

# %% tags=["nbval-ignore-output"]
share = idle["always writable"] / idle["pure spin"]
print(f"always writable: {idle['always writable']:.3f} CPU seconds in one second of silence ({share:.0%} of the pure spin's)")

# %% [markdown]
# A socket with room in its send buffer is **always writable**. Registered for
# `EVENT_WRITE` with nothing to send, every caller is "ready" all the time, so
# `select()` returns at once, the loop finds nothing to do, and asks again — busy-polling
# with extra steps:

# %%
print("the always-writable loop spun like busy-polling:", idle["always writable"] > 10 * idle["select"])

# %% [markdown]
# **The fix:** register a caller for `EVENT_READ` only, and add `EVENT_WRITE` only while
# its outbox holds bytes. When `recv()` adds bytes to an empty outbox, and when `send()`
# empties it, change what the selector watches:
#
# ```python
# events = selectors.EVENT_READ
# if outboxes[sock]:
#     events |= selectors.EVENT_WRITE
# selector.modify(sock, events)
# ```
#
# The course's package has an event-loop server built this way:
# `start_loop_echo_server()`. Your code for it is a **protocol**, an object with methods
# the loop calls for each caller: `data_received(data)` when bytes arrive; there,
# `self.conn.write(data)` adds to that caller's outbox. The server object is the one you
# know (`.address`, `.log`, `.stop()`), and `server.turns` counts how often its loop woke
# up from `select()`. The same three callers, then one second of silence:

# %%
server = start_loop_echo_server()
callers = [socket.create_connection(server.address, timeout=5) for _ in range(3)]
for i, sock in enumerate(callers):
    sock.sendall(b"hi %d" % i)
    print(sock.recv(1024))
server.log.wait_for("sent", count=3)
turns, before = server.turns, thread_cpu_seconds(server.thread)
threading.Event().wait(1.0)  # the measurement
idle["correct loop"] = thread_cpu_seconds(server.thread) - before
print("loop wake-ups during the silent second:", server.turns - turns)

# %% tags=["nbval-ignore-output"]
share = idle["correct loop"] / idle["pure spin"]
print(f"correct loop: {idle['correct loop']:.3f} CPU seconds in one second of silence ({share:.0%} of the pure spin's)")

# %%
print("the correct loop used under a tenth of what the pure spin got:", idle["correct loop"] < 0.1 * idle["pure spin"])
print("three callers, one thread:", [t.name for t in threading.enumerate() if "loop echo" in t.name])
for sock in callers:
    sock.close()
server.log.wait_for("closed", count=3)
server.log.show(line=1)

# %% [markdown]
# ## 3. Backpressure: a caller who sends but never reads
#
# The outbox makes the loop safe from slow callers: it never waits for one. But a
# caller who sends a lot and **never reads** its echo makes its outbox grow, and grow:
# the server's memory is at the mercy of one caller.
#
# **Backpressure** is the answer: while a caller's outbox holds more than a limit, **stop
# reading from it** (remove `EVENT_READ`, keep `EVENT_WRITE`). Its bytes then wait in the
# operating system's buffers; once those are full, the caller's own `send()` blocks. The pressure
# travels back to whoever causes it. When its outbox drains below the limit, read again.
#
# The course's loop server does this with `outbox_limit` (1 MiB by default). We set it
# to 256 KiB and let a caller with a small receive buffer push data as fast as it can,
# without ever reading, until the operating system stops taking more for half a second.
#
# New names in the next cell: `setsockopt(SOL_SOCKET, SO_RCVBUF, 4096)` asks the operating
# system for a small **receive buffer** on the caller's socket, so the pressure shows
# sooner. The server's state belongs to its loop thread, so we ask the loop itself to
# look: `server.call(function)` runs `function` in the loop's thread between two turns and
# returns its result. There, `server.connections()` lists the callers' connections;
# a connection's `.outbox_size` is how many bytes wait in its outbox, and `.reading`
# whether the loop still reads from it (`False`: backpressure is on).

# %%
server = start_loop_echo_server(outbox_limit=256 * 1024)
hog = socket.socket()
hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
hog.connect(server.address)
hog.setblocking(False)
pushed, chunk = 0, b"z" * 65536
for attempt in range(2000):  # bounded: far more than the buffers and the outbox hold
    _, writable, _ = select.select([], [hog], [], 0.5)
    if not writable:
        break  # the operating system took nothing for half a second: the server stopped reading
    pushed += hog.send(chunk)

outbox, reading = server.call(lambda: (server.connections()[0].outbox_size, server.connections()[0].reading))
print("the caller pushed more than the limit:", pushed > 256 * 1024)
print("its outbox stayed near the limit:", outbox <= 256 * 1024 + 65536)
print("the server is reading from it:", reading)

# %% [markdown]
# Everyone else is still served:

# %%
with socket.create_connection(server.address, timeout=5) as other:
    other.sendall(b"my turn")
    print(other.recv(1024))

# %% [markdown]
# When the caller finally reads, its outbox drains, the loop reads from it again, and
# every byte comes back:

# %%
hog.setblocking(True)
hog.settimeout(5)
received = 0
while received < pushed:  # bounded by the timeout on each recv()
    received += len(hog.recv(1 << 20))
print("every byte came back:", received == pushed)
hog.close()
server.stop()

# %% [markdown]
# ## 4. A blocking call stalls everyone
#
# One thread serves every caller, so **a handler that waits makes everyone wait**. The
# protocol below answers `slow` after a slow database query, and echoes everything
# else. Our stand-in for the database is `database_query()`: it blocks until the cell
# says the database has answered (`query_done.set()`), so we can look at the other
# callers *while* the query runs. (A real slow call — `time.sleep()`, a blocking socket,
# a big computation — blocks the same way.)
#
# Caller A asks for `slow`; once A's query has started, caller B says `hi`. We give B two
# seconds to get its echo back while A's query is still running, then let the database
# answer.

# %%
query_started, query_done = threading.Event(), threading.Event()


def database_query():
    """A slow database query: blocks until the cell says the database has answered."""
    query_started.set()
    query_done.wait(10)
    return b"slow answer"


class SlowQuery(Protocol):
    def data_received(self, data):
        if data == b"slow":
            self.conn.write(database_query())  # blocks the loop's only thread
        else:
            self.conn.write(data)


def b_while_a_waits(server):
    """A starts a slow query, B says hi: is B answered while A's query still runs?"""
    query_started.clear()
    query_done.clear()
    with socket.create_connection(server.address, timeout=5) as a, socket.create_connection(
        server.address, timeout=5
    ) as b:
        b.sendall(b"warm-up")
        b.recv(1024)  # both are connected and served
        a.sendall(b"slow")
        query_started.wait(5)  # A's query is running now
        b.sendall(b"hi")
        readable, _, _ = select.select([b], [], [], 2.0)  # B's echo, within two seconds?
        query_done.set()  # the database answers
        print("B got its echo while A's query was running:", readable == [b])
        print("then A got", a.recv(1024), "and B got", b.recv(1024))


server = start_loop_server(SlowQuery)
b_while_a_waits(server)

# %% [markdown]
# B's `hi` needed no work at all, yet nothing came back while A's query ran: the loop's
# only thread was waiting for the database, so nobody's bytes were read or sent.
#
# The fix: do the slow work **somewhere else** — another thread — and come back to the
# loop with the result. Connections belong to the loop's thread, so the worker hands
# the answer over with `server.call_soon(conn.write, answer)`: it queues the call and
# wakes the loop (with the self-pipe) to run it.

# %%
class SlowQueryInAThread(Protocol):
    def data_received(self, data):
        if data == b"slow":
            threading.Thread(target=self.query, daemon=True).start()
        else:
            self.conn.write(data)

    def query(self):  # runs in its own thread: the loop keeps going meanwhile
        answer = database_query()
        self.conn.server.call_soon(self.conn.write, answer)


server = start_loop_server(SlowQueryInAThread)
b_while_a_waits(server)
server.stop()

# %% [markdown]
# ## 5. Your turn: `echo_loop(listener, wakeup)`
#
# Write the echo server's loop yourself, in the calling thread, with one selector and
# non-blocking sockets:
#
# - accept callers on `listener`; echo every byte each caller sends back to that caller;
# - keep an **outbox** per caller; what `send()` did not take stays in it;
# - register `EVENT_WRITE` only while a caller's outbox holds bytes;
# - stop reading from a caller whose outbox holds more than 1 MiB (`1 << 20` bytes)
#   until it drains below that;
# - a caller who **hangs up** (`recv()` returns `b""`) is unregistered and closed — but a
#   caller who only **half-closed** (`shutdown(SHUT_WR)`: "I have finished sending") still
#   gets the rest of its echo first. A **reset** counts as a hang-up too: it can make
#   `recv()` or `send()` raise, as `ConnectionResetError` or (from `send()`, on some
#   systems) `BrokenPipeError`, so catch `OSError`, the family both belong to;
# - when `wakeup` becomes readable (a byte arrived, or its other end was closed), close
#   every caller's connection and return. Don't close `listener` and `wakeup`: whoever
#   called `echo_loop` owns them and closes them.
#
# To try it by hand first, use the helpers from section 2: `address, wake_end, thread =
# start_in_thread(echo_loop)` runs your loop in a thread (calling `echo_loop` directly in
# a cell would block the notebook until it returns), `socket.create_connection(address)`
# gives you a caller, and `stop_thread(wake_end, thread)` wakes it and tells you whether
# it returned.
#
# The checks run your loop in a thread and talk to it with real sockets: many callers,
# pieces of 1, 5 and 4096 bytes, an operating system that takes only part of each `send()`, a caller
# who never reads, one who resets, and one second of silence in which they measure your
# loop's CPU time.

# %% tags=["exercise"]
def echo_loop(listener, wakeup):
    raise NotImplementedError("Write echo_loop: one selector, non-blocking sockets, an outbox per caller")


# %% tags=["check"]
check("echo_loop", echo_loop)

# %% [markdown]
# ## 6. The same, with `asyncio`
#
# Python's `asyncio` is an event loop with a friendlier way to write the handlers.
# Instead of splitting your code into "when readable" and "when writable" pieces, you
# write one function per caller that reads like blocking code:
#
# - `async def` defines a **coroutine function**: calling it gives a coroutine, a
#   function that can pause and resume later;
# - `await something` pauses *this* coroutine until `something` is ready — and meanwhile
#   the event loop runs the other callers' coroutines. Each pause is a point where the
#   loop may switch; between two `await`s, your code runs alone;
# - `asyncio.start_server(handle, ...)` calls `handle(reader, writer)` for every caller:
#   `await reader.read(n)` waits for data, `writer.write(data)` adds to the outbox
#   (asyncio's name for it is the write buffer), `await writer.drain()` waits while that
#   buffer is too full.
#
# The notebook's kernel (the Python process that runs your cells) already runs an asyncio
# event loop in its main thread: that is why you can write `await` directly in a cell. A server's loop must keep running while
# cells run, so the course's `start_async_server(handle)` calls `asyncio.start_server`
# on a **new** event loop in a background thread, and returns the usual server object.

# %%
async def handle_echo(reader, writer):
    while data := await reader.read(65536):  # b"" when the caller hangs up
        writer.write(data)
        await writer.drain()


server = start_async_server(handle_echo)
with socket.create_connection(server.address, timeout=5) as sock:
    sock.sendall(b"hello, asyncio")
    print(sock.recv(1024))
server.log.wait_for("closed", line=1)
server.log.show()

# %% [markdown]
# ### Why `await writer.drain()` matters
#
# `writer.write()` never waits: it sends what the operating system takes and keeps the rest in
# the write buffer — exactly our outbox. **Backpressure is `drain()`**: it pauses the
# coroutine while the buffer is over its limit (64 KiB by default) and resumes it once
# the caller has read enough. Leave it out and a caller who never reads makes the buffer
# grow without limit. Two servers each send 20 MiB to a caller who reads nothing; we
# record the largest write buffer each one reached.
#
# New names in the next cell: `writer.transport` is the object under the writer that owns
# the socket; its `get_write_buffer_size()` says how many bytes wait in the write buffer,
# and its `abort()` hangs up at once, dropping what is still buffered (`writer.close()`
# would first try to send it all). `await asyncio.wait_for(awaitable, seconds)` waits at
# most that long, then cancels the wait and raises `TimeoutError`.

# %%
largest = {}


def make_firehose(drain):
    async def firehose(reader, writer):
        try:
            for _ in range(20):
                writer.write(b"x" * (1 << 20))
                buffered = writer.transport.get_write_buffer_size()
                largest[drain] = max(largest.get(drain, 0), buffered)
                if drain:
                    await asyncio.wait_for(writer.drain(), 0.5)
        except TimeoutError:
            pass  # drain() waited half a second in vain: this caller does not read
        finally:
            writer.transport.abort()  # hang up now, dropping what is still buffered

    return firehose


for drain in (False, True):
    firehose = start_async_server(make_firehose(drain), name=f"firehose drain={drain}")
    with socket.create_connection(firehose.address) as sock:
        firehose.log.wait_for("closed", line=1)
    firehose.stop()
print("without drain(), the buffer held over 10 MiB:", largest[False] > 10 * (1 << 20))
print("with drain(), it never passed 2 MiB:", largest[True] < 2 * (1 << 20))

# %% [markdown]
# With `drain()`, the first megabyte waited in the buffer and `drain()` paused the
# handler; `wait_for` gave up on it after half a second. A caller who never reads holds
# up only its own coroutine: nobody else waits.
#
# ### The blocking pitfall, async edition
#
# `await` is where the loop may switch to another caller. A call that blocks *without*
# `await` — `time.sleep()`, a blocking socket, our `database_query()` — stops the whole
# loop, just as in section 4. `await asyncio.sleep()` pauses only this coroutine; for
# blocking code you cannot change, `await asyncio.to_thread(function, ...)` runs it in a
# thread and pauses only this coroutine until it returns.

# %%
def make_slow(query):
    async def slow(reader, writer):
        while data := await reader.read(1024):
            if data == b"slow":
                data = await query()
            writer.write(data)
            await writer.drain()

    return slow


async def blocking_query():
    return database_query()  # no await: the loop cannot run anyone else


async def query_in_a_thread():
    return await asyncio.to_thread(database_query)  # the loop runs other callers meanwhile


for query in (blocking_query, query_in_a_thread):
    print(f"{query.__name__}:")
    server = start_async_server(make_slow(query), name=query.__name__)
    b_while_a_waits(server)
    server.stop()

# %% [markdown]
# ### The chat room on asyncio
#
# `start_async_chat_server()` serves lesson 06's chat protocol with asyncio streams, one
# coroutine per member on one loop. The room is a plain dict of members — **no locks**:
# only one coroutine runs at a time, and it is never interrupted between two `await`s.
# Sending to a member is `writer.write(line)`, which never waits; a member whose buffer
# passes a limit (it is not reading) is dropped. `nc` can join, as before:

# %%
chat = start_async_chat_server()
print("to join from a terminal, run:", chat.nc_command())
ada = ChatBot(chat, "ada")
bob = ChatBot(chat, "bob")
ada.wait_for("* bob joined")
bob.say("one loop, no locks")
ada.wait_for("bob: one loop, no locks")
print(ada.text())

# %% [markdown]
# ### Calling many servers at once
#
# asyncio shines on the client side too. `asyncio.open_connection(host, port)` connects
# and returns a `(reader, writer)` pair. Since the notebook's kernel runs an event loop, a
# cell can `await` directly:

# %%
reader, writer = await asyncio.open_connection(*chat.address)
print(await reader.readline())
writer.close()
await writer.wait_closed()

# %% [markdown]
# To run several coroutines **at the same time**, hand them all to
# `asyncio.gather(coro1, coro2, ...)`: it returns their results as a list, in the order
# you gave them, once all have finished. `asyncio.gather(..., return_exceptions=True)`
# puts an exception in its coroutine's slot instead of raising it. To give up on
# something slow, `await asyncio.wait_for(coro, timeout)` or
# `async with asyncio.timeout(timeout):` cancels it and raises `TimeoutError`.
#
# Three echo calls, each to our echo server, at once. `echo_once` closes its writer in a
# `finally:` block, so the connection is closed however the call ends:

# %%
echo = start_async_server(handle_echo)


async def echo_once(text):
    reader, writer = await asyncio.open_connection(*echo.address)
    try:
        writer.write(text)
        await writer.drain()
        writer.write_eof()  # half-close: "that was everything"
        return await reader.read()  # no size: read until the server hangs up
    finally:
        writer.close()


print(await asyncio.gather(echo_once(b"one"), echo_once(b"two"), echo_once(b"three")))

# %% [markdown]
# `asyncio.TaskGroup` is the other way to start many at once: `group.create_task(coro)`
# starts each one, and the `async with` block ends when all have finished. Beware: if
# one task raises, the group **cancels all the others** and raises an `ExceptionGroup`.
# So catch each call's own errors inside its task, as `echo_or_error` does here (the
# second address refuses):

# %%
async def echo_or_error(address, text):
    try:
        reader, writer = await asyncio.open_connection(*address)
    except OSError as exc:  # this call's failure stays this call's
        return exc
    try:
        writer.write(text)
        await writer.drain()
        writer.write_eof()
        return await reader.read()
    except OSError as exc:
        return exc
    finally:
        writer.close()


with socket.socket() as nobody:  # a port that is held but not listening: refuses
    nobody.bind(("127.0.0.1", 0))
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(echo_or_error(address, b"hi"))
            for address in (echo.address, nobody.getsockname(), echo.address)
        ]
print([type(t.result()).__name__ if isinstance(t.result(), Exception) else t.result() for t in tasks])

# %% [markdown]
# ## Your turn: `call_all(addresses, message, timeout)`
#
# Write `async def call_all(addresses, message, timeout)`:
#
# - connect to **every** address at once, send `message` (bytes), then half-close
#   (`writer.write_eof()`) so the server knows the message is complete;
# - read each reply until that server hangs up;
# - return the replies **in the order of `addresses`**;
# - a server that does not finish within `timeout` seconds gets a `TimeoutError`
#   instance in its slot, and its connection is closed; one that refuses gets the
#   `ConnectionRefusedError` instance, any other `OSError` its instance; the others are
#   not affected;
# - `call_all([], ...)` returns `[]`. The whole call takes about as long as the slowest
#   server, not the sum of them all.

# %% tags=["exercise"]
async def call_all(addresses, message, timeout):
    raise NotImplementedError("Write call_all: one coroutine per address, all at once")


# %% tags=["check"]
check("call_all", call_all)

# %% [markdown]
# ## 7. Threads against event loops, measured
#
# Now the numbers, from **your** machine, for three kinds of server: a thread per caller
# (lessons 05 and 06), the selectors loop (the course's `start_loop_server`), and asyncio.
#
# **Memory per connection.** Each kind of echo server runs in a separate process (so this
# notebook's own memory does not blur the figure). We connect 100, then 500, then 2,000
# callers who each send one byte, get it back and then stay silent, and ask the server
# process for its **resident memory** (RSS: the memory it really occupies) each time.
# The growth divided by the number of callers is the cost of one idle caller. (The
# operating system's own memory for each connection, its buffers, is not part of a
# process's RSS; it is the same for all three kinds.)
#
# Every socket is an open file, and systems limit how many files a process may have
# open (the "soft limit", which a process may raise up to the "hard limit"). 2,000
# callers need over 2,000 on each side; we raise the limit if we can, and measure fewer
# callers if we cannot. On Windows the selectors loop waits in `select()`, which Python
# there limits to 512 sockets, so we measure at most 500 callers.

# %%
limit = raise_fd_limit(2100)
if sys.platform == "win32":  # select() there takes at most 512 sockets
    limit = min(limit, 600)
sizes = [n for n in (100, 500, 2000) if n + 100 <= limit]
if sizes != [100, 500, 2000]:
    print(f"this system allows {limit} sockets here: measuring {sizes} callers only")
memory = idle_memory_per_caller(("threads", "selectors", "asyncio"), sizes)

# %% tags=["nbval-ignore-output"]
fig, ax = plt.subplots(figsize=(6, 3.5))
for kind, per_size in memory.items():
    ax.plot(list(per_size), [b / 1024 for b in per_size.values()], marker="o", label=kind)
ax.set_xscale("log")
ax.set_xlabel("idle callers")
ax.set_ylabel("KiB per caller")
ax.set_title("Memory per idle connection")
ax.legend()
plt.show()
for kind, per_size in memory.items():
    print(kind, {n: f"{b / 1024:.1f} KiB" for n, b in per_size.items()})

# %%
most = sizes[-1]
print(
    "the selectors loop used less memory per caller than threads:",
    memory["selectors"][most] < memory["threads"][most],
)
print("asyncio used less memory per caller than threads:", memory["asyncio"][most] < memory["threads"][most])

# %% [markdown]
# A thread needs its own stack and Python's bookkeeping for it; a caller of an event loop
# is a socket and a small object with its outbox.
#
# **Fan-out.** The chat room's busiest job: one member speaks, everyone else must hear
# it. We measure the room's broadcast stripped to its core (no names, no announcements,
# so that joining hundreds of members is quick): one member sends a burst of lines at
# once, and we count **deliveries per second** — lines received by members, per second —
# at 10, 100 and 500 members. The members are sockets in this notebook, read together
# with one selector. A small room gets more lines (200 at 10 members, 20 at 100, 10 at
# 500), so every figure times thousands of deliveries, and each figure is the median of
# 3 runs: a single short run is mostly noise.

# %%
lines_for = {10: 200, 100: 20, 500: 10}
fanout = {
    kind: {
        n: statistics.median(fanout_per_second(kind, n, messages=lines) for _ in range(3))
        for n, lines in lines_for.items()
    }
    for kind in ("threads", "selectors", "asyncio")
}

# %% tags=["nbval-ignore-output"]
fig, ax = plt.subplots(figsize=(6, 3.5))
for kind, per_size in fanout.items():
    ax.plot(list(per_size), list(per_size.values()), marker="o", label=kind)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("members")
ax.set_ylabel("deliveries per second")
ax.set_title("Chat fan-out")
ax.legend()
plt.show()
for kind, per_size in fanout.items():
    print(kind, {n: round(rate) for n, rate in per_size.items()})

# %%
print(
    "at 500 members the selectors loop delivered more per second than threads:",
    fanout["selectors"][500] > fanout["threads"][500],
)

# %% [markdown]
# Why the selectors loop is ahead: the thread design makes one `sendall()` per line per
# member, and every member's thread takes turns with the others; the loop adds lines to
# outboxes and, before it waits again, sends each member everything of that turn in one
# `send()`. asyncio's `writer.write()` tries to send each line at once, so it makes as
# many sends as threads do; whether that makes it faster or slower than threads depends
# on the machine, and the plot above shows what it did on yours.
#
# **Idle CPU.** Finally the three loops of sections 1 and 2, measured while their callers
# were silent for one second:

# %% tags=["nbval-ignore-output"]
names = ["pure spin", "busy-poll", "always writable", "correct loop"]
fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(names, [idle[n] for n in names])
ax.set_xlabel("CPU seconds used in one idle second")
ax.set_title("An idle server should sleep")
plt.show()

# %%
print(
    "busy-poll and always-writable each used over ten times the correct loop's CPU:",
    min(idle["busy-poll"], idle["always writable"]) > 10 * idle["correct loop"],
)

# %% [markdown]
# ## Recap
#
# - A **non-blocking** socket raises `BlockingIOError` instead of waiting, and `send()`
#   may take only part of the data: keep the rest in an **outbox**.
# - Never ask again and again (busy-polling): wait in `select()` / `selectors` until a
#   socket is ready. Watch for **writable only while the outbox holds bytes**.
# - **Backpressure**: stop reading from a caller whose outbox is over a limit, so a caller
#   who never reads cannot fill your memory; `await writer.drain()` is asyncio's version.
# - One loop thread serves everyone, so one **blocking call** stalls everyone: move slow
#   work to a thread and come back with `call_soon` (or `await asyncio.to_thread`).
# - A **self-pipe** (a socket pair) is how another thread wakes a loop, on every system.
# - `asyncio`: `async def` handlers, `await` where you would block, `gather` to do many
#   things at once; one loop, no locks.
# - Measured on your machine: an idle caller of an event loop cost less memory than a
#   thread, and at 500 members the selectors loop delivered more chat lines per second
#   than threads (the cells above print whether that held on yours).
#
# **Next:** lesson 08 builds a small Redis server on this event loop, and talks to it
# with the real `redis-cli`.
#
# Hang up and stop every server:

# %%
ada.close()
bob.close()
stop_all()
print(tcplessons.running_servers())
