# %% [markdown]
# # 03 · An echo server, live
#
# An **echo server** sends back whatever it receives. It is the "hello world" of network
# programming: small enough to read in one go, and it already has a doorbell (the
# listener from lesson 01) and phone calls (the streams from lesson 02).
#
# This course grew out of a beginner's article about TCP listeners and streams — the
# doorbell and the phone call are its pictures. It ends with an echo server and a
# client to try. Like most beginner examples, they contain a handful of bugs that hide
# on your own computer and bite later. In this lesson we read the article's server and
# client, run them, fix them, and then put each bug back and watch it fail for real.
# At the end you write the server's heart, `handle_echo(conn)`, and a client,
# `echo_client(address, message)`.

# %%
import tcplessons
print(tcplessons.versions())  # the versions you run: paste this line if you ask for help
tcplessons.explain_errors()  # adds a line under socket errors: what they mean, which lesson

import socket

from tcplessons import check, connect, start_echo_server, start_server, stop_all

# %% [markdown]
# ## The article's server
#
# Here is the article's echo server, retold in this course's words but with every one
# of its choices kept. It has two parts: `article_handler` talks to one caller (a
# function like that is called a **handler**), and `article_server` installs the
# doorbell and answers callers one after the other.

# %%
def article_handler(connection):
    """The article's server, talking to one caller: echo each message until they leave."""
    try:
        while True:
            message = connection.recv(1024).decode()  # one read, turned into text
            if not message:  # nothing: the caller has hung up
                break
            print("got:", message)
            connection.send(message.encode())  # back it goes
    except Exception as problem:
        print("something went wrong:", problem)
    finally:
        connection.close()


def article_server():
    """The article's server: a doorbell on port 6379, callers answered one by one."""
    doorbell = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    doorbell.bind(("localhost", 6379))  # "localhost": a name for 127.0.0.1, this computer
    doorbell.listen(5)
    print("the echo server is listening")
    try:
        while True:
            connection, address = doorbell.accept()
            print("a caller from", address)
            article_handler(connection)  # talk to this caller until they hang up
    finally:
        doorbell.close()

# %% [markdown]
# We will not call `article_server()` here. Its `while True` loop never ends, so this
# notebook would be busy with it until you chose *Kernel → Interrupt* in Jupyter's
# menu (that menu item stops whatever code the notebook is running). And it wants port
# 6379, which may belong to someone else (lesson 01). Its host, `"localhost"`, is a
# name for `127.0.0.1`: loopback, only this computer, as in lesson 01.
#
# The part that matters is `article_handler`, and a handler is just a function: we can
# give it a line ourselves, right here in this cell. A caller rings a doorbell of our
# own, says hello and then "I'm done talking" (`shutdown(SHUT_WR)`, lesson 02), so the
# handler's loop has an end:

# %%
doorbell = socket.create_server(("127.0.0.1", 0))
caller = socket.create_connection(doorbell.getsockname(), timeout=5)
connection, _ = doorbell.accept()
connection.settimeout(5)  # should anything go wrong, give up after 5 seconds

caller.sendall("Hello, echo server!".encode())
caller.shutdown(socket.SHUT_WR)
article_handler(connection)  # runs in this cell: its print() shows below
print("the caller hears:", caller.recv(1024))
caller.close()

# %% [markdown]
# It works — today, on this computer. Keep the code in view; we come back to it line
# by line.
#
# ## The article's client
#
# The client rings the same fixed port, sends one message and reads one answer:

# %%
def article_client(address=("localhost", 6379)):
    """The article's client: say hello once, print the one answer."""
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        client.connect(address)
        client.send("Hello, echo server!".encode())
        answer = client.recv(1024).decode()  # one read, taken as the whole answer
        print("the server echoed:", answer)
    except ConnectionRefusedError:
        print("nobody answers: is the server running?")
    except Exception as problem:
        print("something went wrong:", problem)
    finally:
        client.close()

# %% [markdown]
# To try it safely, we need a server on a port of its own — which brings us to the
# first fixes.
#
# ## The server, fixed
#
# Here is the article's server with the bugs taken out:
#
# - **Port 0**: the operating system picks a free port, so the server never collides
#   with a real Redis on 6379 or with the learner next door (lesson 01). The host was
#   already right: `"localhost"` is a name for `127.0.0.1`, so only this computer can
#   reach the server; `start_server` below writes `127.0.0.1` directly.
# - **Bytes, not text.** An echo server does not need to understand what it echoes, so
#   it never decodes anything.
# - **`sendall()`, not `send()`.** `send()` may write only part of the data (it returns
#   how much); `sendall()` keeps going until every byte is out.
# - **`with conn:`** hangs up our end of the line when we are done — even if something
#   goes wrong halfway, like the article's `finally: connection.close()`.
# - **No `print()`.** This handler runs in the background (see below), where a
#   `print()` would land in whichever cell happens to be running.
#
# The doorbell part — `bind()`, `listen()` and the `accept()` loop — is the same for
# every server, so `tcplessons.start_server(handler)` does it for us, in the background
# of this notebook: it returns at once, and the next cells can call the server. We only
# write the **handler**: what to do with one phone call. To tell the server's reply
# from our own message, this one shouts back in capitals.

# %%
def loud_echo(conn):
    """Send back every piece of data we receive, in capitals, until the caller hangs up."""
    with conn:
        while True:
            data = conn.recv(1024)  # up to 1024 bytes: whatever has arrived so far
            if not data:  # b"" means the caller hung up
                break
            conn.sendall(data.upper())


server = start_server(loud_echo)
print(server)

# %% [markdown]
# `start_server` returns once the doorbell is switched on, so we can call straight
# away. `server.address` is the real `(host, port)` the operating system gave us. The
# article's client works against it — again, on a good day:

# %%
article_client(server.address)

# %% [markdown]
# ## The client, fixed
#
# The fixed client rings, says something, and listens for the answer. `connect(address)`
# here is the course's helper from `tcplessons`, not the socket method `connect()` of
# lesson 01: it is `socket.create_connection(address, timeout=5)` under a shorter name,
# so a mistake fails in seconds instead of freezing the notebook. Used in a `with`
# block, the line is hung up at the end of the block.

# %%
with connect(server.address) as client:
    client.sendall("Hello, echo server!".encode("utf-8"))  # text -> bytes first
    reply = client.recv(1024)

print("the server replied:", reply.decode("utf-8"))

# %% [markdown]
# One `recv(1024)` was enough here because the reply is short and arrived all at once.
# That is luck, not a rule — the `echo_client` exercise below reads until the server
# hangs up, which always works.
#
# The server never prints. It writes what happened into `server.log`; we wait for the
# event we expect, then print the story from here:

# %%
server.log.wait_for("closed", count=2, timeout=2)  # both calls are over
server.log.show()

# %% [markdown]
# Line 1 was the article's client, line 2 ours. Each: connected, 19 bytes in, 19 bytes
# out, the caller hung up (`recv()` returned `b""`), and the server closed its end.
#
# ## Bug 1: sending a `str`
#
# The article's shorter examples call `send("Hi back!")` with a string. A socket
# carries **bytes**, and Python refuses to guess how you want your text turned into
# bytes:

# %% tags=["raises-exception"]
with connect(server.address) as client:
    client.send("Hi back!")

# %% [markdown]
# The fix is `"Hi back!".encode("utf-8")` (or a bytes literal, `b"Hi back!"`), and
# `.decode("utf-8")` on what comes back — as the article's full example does.
#
# ## Bug 2: `send()` may send only part
#
# The article's server and client both write with `send()`. It hands the operating
# system as much as fits into the socket's send buffer (lesson 02) *right now* and
# returns how many bytes that was. To see it, we need a buffer that fills up: a
# listener that never answers its calls, and a client that sends 2 MB (Python lets you
# write `2_000_000` for 2000000: the underscores only make it easier to read).
#
# How much fits depends on the computer: one tuned for fast networks may take many
# megabytes at once. So the client keeps calling `send()` until one call writes less
# than it was given — and on every computer, one does.

# %%
nobody_reads = socket.create_server(("127.0.0.1", 0))
with connect(nobody_reads.getsockname(), timeout=0.3) as client:
    big = b"x" * 2_000_000
    written = []  # how many bytes each send() wrote
    try:
        for _ in range(32):  # at most 64 MB: more than any buffer
            written.append(client.send(big))
            if written[-1] < len(big):
                break
    except TimeoutError:  # the buffers were full: not one byte fitted within 0.3 s
        written.append(0)
    print("the last send() wrote only part of it:", written[-1] < len(big))
nobody_reads.close()

# %% [markdown]
# Every `send()` but the last wrote the whole 2 MB; the last wrote less (how much
# depends on your computer). Code that ignores `send()`'s return value silently loses
# the rest. (This socket has a timeout, as every socket from `connect()` does. Without a
# timeout, `send()` usually waits, but it may still return early: so use `sendall()`,
# as lesson 02 said.) `sendall()` loops until everything is written, or raises an
# error: it is what you almost always want.
#
# ## Bug 3: decoding each `recv()` on its own
#
# The article's handler does `connection.recv(1024).decode()`. In UTF-8, a character
# such as `日` takes 3 bytes. `recv()` returns whatever has arrived, so the bytes of one
# character can arrive in two pieces — and half a character cannot be decoded.

# %%
text = "日本"
data = text.encode("utf-8")
print(len(text), "characters,", len(data), "bytes:", data)

# %% [markdown]
# On a real network, where a message travels in packets, such a split happens by
# itself, now and then. Here we make it happen every time: the caller sends only the
# first 4 bytes (`日` and the first byte of `本`), and we hand the line to the
# article's handler, in this cell as before.

# %%
caller = socket.create_connection(doorbell.getsockname(), timeout=5)
connection, _ = doorbell.accept()
connection.settimeout(5)

caller.sendall(data[:4])  # the rest of 本 is still on its way
article_handler(connection)
print("the caller hears:", caller.recv(1024))
caller.close()
doorbell.close()

# %% [markdown]
# The handler's first `recv()` returned `b'\xe6\x97\xa5\xe6'` — `日` plus one byte of
# `本` — and `.decode()` raised `UnicodeDecodeError`. The article's `except Exception`
# printed it (on the *server's* screen, where the caller never sees it), and its
# `finally` closed the line. The caller hears `b""`: hung up on in mid-message, with
# no reply and no explanation — for a perfectly valid message.
#
# Our echo server above never decodes, so it cannot have this bug. When a server
# *does* need text, it must collect whole messages first, or decode with an
# incremental decoder — that is lesson 04.
#
# ## Bug 4: one caller at a time
#
# The article's server answers a caller, then serves that caller until they hang up,
# and only then goes back to the doorbell. Everyone else is left ringing.
# `one_at_a_time=True` gives our server exactly that shape:

# %%
single = start_server(loud_echo, "single", one_at_a_time=True)

first = connect(single.address)
first.sendall(b"first caller\n")
print("first caller hears:", first.recv(1024))

second = connect(single.address)  # the operating system answers the doorbell for us...
second.sendall(b"second caller\n")  # ...and even takes the data
print("lines being served:", single.open_lines())
print("the second caller is connected:", second.getpeername() == single.address)

# %% [markdown]
# The second caller got through — the operating system completed the connection and
# stored the data — but nobody serves them. Their reply does not come. We give it
# 0.2 seconds (`settimeout(0.2)`: after that, `recv()` raises `TimeoutError` instead of
# waiting on):

# %%
second.settimeout(0.2)
try:
    print("second caller hears:", second.recv(1024))
except TimeoutError:
    print("no reply for the second caller after 0.2 s")
second.settimeout(5)

# %% [markdown]
# Only when the first caller hangs up does the server go back to `accept()`:

# %%
first.close()
single.log.wait_for("sent", line=2, timeout=2)
print("second caller hears:", second.recv(1024))
second.close()
single.log.wait_for("closed", line=2, timeout=2)
single.log.show()

# %% [markdown]
# A chat server that talks to one person at a time is no chat server. Lesson 05 fixes
# it: every call served at the same time as the others. (`start_server` already does
# that unless you ask for `one_at_a_time`.)

# %%
single.stop()
server.stop()

# %% [markdown]
# ## From a terminal: `nc`
#
# `nc` (netcat) is a tiny program that connects to a port and then copies your
# keyboard to the socket and the socket to your screen — a client for any TCP server.
# Start the course's echo server:

# %%
echo = start_echo_server()
print(echo.nc_command())

# %% [markdown]
# Open a terminal (in JupyterLab: *File → New → Terminal*) and run the command exactly
# as printed above, with your port (what it prints depends on your system: `nc -N`,
# `nc`, or the course's own `python -m tcplessons nc`). Type a line and press Enter: it
# comes straight back. Press Ctrl+D (on Windows: Ctrl+Z, then Enter) to say you have
# finished, or Ctrl+C to leave. Try sending a few lines before you hang up, then look
# at `echo.log.show()` in a new cell to see each piece the server received.
#
# The server keeps running until you stop it (the last cell of this notebook does).

# %% [markdown]
# ## Exercise 1: `handle_echo(conn)`
#
# Write the handler of a proper echo server: send back **every byte** received on
# `conn`, unchanged, until the caller hangs up; then close `conn`.
#
# - The data need not be text: never decode it.
# - Send each piece back as soon as `recv()` returns it: someone typing in `nc` waits
#   for each line to come back before typing the next one.
# - `recv()` returns `b""` when the caller has hung up — that is when to stop.
# - The checks send text and binary data, in pieces of 1, 5 and 4096 bytes, a whole
#   megabyte, one line whose echo they wait for before hanging up, and callers who hang
#   up early — one of them abruptly, which is called **resetting** the line (lesson 06
#   shows it). You need not catch anything for that: `with conn:` is all you need. They
#   also use a socket whose `send()` writes only 3 bytes at a time.

# %% tags=["exercise"]
def handle_echo(conn):
    raise NotImplementedError("Write handle_echo(conn): send back every byte received on conn until the caller hangs up, then close conn")


# %% tags=["check"]
check("handle_echo", handle_echo)

# %% [markdown]
# Once it passes, you can serve the world (well, your own computer) with it:
# `start_server(handle_echo)`.
#
# ## Exercise 2: `echo_client(address, message)`
#
# Write a client that:
#
# 1. connects to `address` (a `(host, port)` tuple),
# 2. sends `message` encoded as UTF-8,
# 3. tells the server it has finished sending: `sock.shutdown(socket.SHUT_WR)` — the
#    server's `recv()` then returns `b""`, while you can still listen,
# 4. reads the reply until the server hangs up (`recv()` returns `b""`),
# 5. returns the reply decoded as UTF-8.
#
# Decode once, at the end: the reply may arrive in pieces that split a character, as
# in bug 3.
#
# Unlike the article's client, do not take one `recv(1024)` for the whole answer.
# Return what the server sends back, not your own message. The checks' test servers are
# not all plain echo servers: one shouts back in capitals like `loud_echo`, another
# answers with a long text of its own.

# %% tags=["exercise"]
def echo_client(address, message):
    raise NotImplementedError("Write echo_client(address, message): send message as UTF-8, shut down the write side, read the reply until the server hangs up, return it decoded")


# %% tags=["check"]
check("echo_client", echo_client)

# %% [markdown]
# ## Recap
#
# - The article's server and client work on a good day. Their bugs: a fixed port,
#   `send()` of a `str`, `send()` instead of `sendall()`, one `recv()` taken as one
#   message and decoded on its own, and one caller at a time.
# - The doorbell (`listen`/`accept`) is the same in every server; the interesting part
#   is the handler: what to do with one phone call.
# - Sockets carry bytes: encode text before sending, decode after receiving — and only
#   whole messages, never one `recv()` at a time.
# - `sendall()`, not `send()`; `with` blocks so every line gets hung up.
# - `recv()` returns `b""` when the other side has hung up; `shutdown(SHUT_WR)` is how
#   *you* say "I have finished talking" while still listening.
# - A server that serves one caller at a time leaves everyone else waiting.
#
# **Next**, lesson 04: a stream has no messages. How do two programs agree where one
# message ends and the next begins?

# %%
stop_all()
