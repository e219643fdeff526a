# %% [markdown]
# # 03 · An echo server, live
#
# An **echo server** sends back whatever it receives. It is the "hello world" of network
# programming: small enough to read in one go, and it already has a doorbell (the
# listener from lesson 01) and phone calls (the streams from lesson 02).
#
# Many beginner tutorials show one. They usually contain a handful of bugs that hide on
# your own computer and bite later. In this lesson we run a *fixed* echo server and
# client live, then put the classic bugs back in one at a time and watch each of them
# fail for real. At the end you write the server's heart, `handle_echo(conn)`, and a
# client, `echo_client(address, message)`.

# %%
import tcplessons
print(tcplessons.versions())
tcplessons.explain_errors()  # adds a line under socket errors: what they mean, which lesson

import select
import socket

from tcplessons import check, connect, start_echo_server, start_server, stop_all

# %% [markdown]
# ## The server, fixed
#
# A typical tutorial server looks like this: create a socket, bind it to a fixed port
# such as 6379, `listen()`, then loop forever — `accept()` a caller, and for that caller
# `recv(1024)`, `.decode()` the bytes to a string, print it, and `send()` it back.
#
# Here is the same idea with the bugs taken out:
#
# - **127.0.0.1 and port 0**: only this computer can reach it, and the operating system
#   picks a free port, so it never collides with a real Redis on 6379 or with the
#   learner next door (lesson 01).
# - **Bytes, not text.** An echo server does not need to understand what it echoes, so
#   it never decodes anything.
# - **`sendall()`, not `send()`.** `send()` may write only part of the data (it returns
#   how much); `sendall()` keeps going until every byte is out.
# - **`with conn:`** hangs up our end of the line when we are done — even if something
#   goes wrong halfway.
#
# The doorbell part — `bind()`, `listen()` and the `accept()` loop — is the same for
# every server, so `tcplessons.start_server(handler)` does it for us in a background
# thread. We only write the **handler**: what to do with one phone call. To tell the
# server's reply from our own message, this one shouts back in capitals.

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
# away. `server.address` is the real `(host, port)` the operating system gave us.
#
# ## The client, fixed
#
# The client rings, says something, and listens for the answer. `connect()` is
# `socket.create_connection()` with a timeout, so a mistake fails in seconds instead of
# freezing the notebook.

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
# The server's thread never prints (its output would land in a random cell). It writes
# what happened into `server.log`; we wait for the event we expect, then print the
# story from here:

# %%
server.log.wait_for("closed", line=1, timeout=2)
server.log.show()

# %% [markdown]
# Line 1 is our call: connected, 19 bytes in, 19 bytes out, the caller hung up (our
# `with` block closed the client), and the server closed its end.
#
# ## Bug 1: sending a `str`
#
# The tutorial's client calls `send("Hello!")`. A socket carries **bytes**, and Python
# refuses to guess how you want your text turned into bytes:

# %% tags=["raises-exception"]
with connect(server.address) as client:
    client.send("Hi back!")

# %% [markdown]
# The fix is `"Hi back!".encode("utf-8")` (or a bytes literal, `b"Hi back!"`), and
# `.decode("utf-8")` on what comes back.
#
# ## Bug 2: `send()` may send only part
#
# `send()` hands the operating system as much as fits into its buffer *right now* and
# returns how many bytes that was. To see it, we need a buffer that fills up: a
# listener that never answers its calls, and a client that sends 2 MB.
#
# How much fits depends on the computer: one tuned for fast networks may have buffers
# of many megabytes. So we make both buffers small — `SO_RCVBUF` on the listener (the
# lines it picks up inherit it), `SO_SNDBUF` on the client — and the result is the same
# everywhere.

# %%
nobody_reads = socket.create_server(("127.0.0.1", 0))
nobody_reads.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
with connect(nobody_reads.getsockname(), timeout=0.3) as client:
    client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    big = b"x" * 2_000_000
    written = client.send(big)
    print("send() wrote every byte:", written == len(big))
    print("send() wrote part of them:", 0 < written < len(big))
nobody_reads.close()

# %% [markdown]
# Code that ignores `send()`'s return value silently loses the rest. (This socket has a
# timeout, as every socket from `connect()` does; a socket without one might wait
# instead — but nothing *promises* that.) `sendall()` loops until everything is
# written, or raises an error: it is what you almost always want.
#
# ## Bug 3: decoding each `recv()` on its own
#
# The tutorial's server does `connection.recv(1024).decode()`. In UTF-8, a character
# such as `日` takes 3 bytes. `recv()` returns whatever has arrived, so the bytes of one
# character can arrive in two pieces — and half a character cannot be decoded.
#
# Here is the tutorial's handler, with only the port fixed:

# %%
def decoding_echo(conn):
    """The tutorial's handler: decodes each piece as it arrives (spot the bug)."""
    with conn:
        while True:
            message = conn.recv(1024).decode()
            if not message:
                break
            conn.sendall(message.encode())


fragile = start_server(decoding_echo)
text = "日本"
data = text.encode("utf-8")
print(len(text), "characters,", len(data), "bytes:", data)

# %% [markdown]
# On a real network, where a message travels in packets, such a split happens by
# itself, now and then. Here we make it happen every time: send the first 4 bytes
# (`日` and the first byte of `本`), wait until the server has received them, and only
# then send the rest.

# %%
with connect(fragile.address) as client:
    client.sendall(data[:4])
    fragile.log.wait_for("error", line=1, timeout=2)  # the server's first recv() is enough

fragile.log.show()
print()
print("the handler raised:", repr(fragile.log.errors()[0]))

# %% [markdown]
# The server received `b'\xe6\x97\xa5\xe6'` — `日` plus one byte of `本` — and
# `.decode()` raised `UnicodeDecodeError`. The tutorial's server catches it with an
# `except Exception` that prints `Error handling client: 'utf-8' codec can't decode …`
# on the *server's* screen, and its `finally` closes the connection. The caller is hung
# up on in mid-message, with no reply and no explanation — for a perfectly valid
# message. (The server itself carries on with the next caller.)
#
# Our echo server above never decodes, so it cannot have this bug. When a server *does* need text, it must collect whole messages
# first, or decode with an incremental decoder — that is lesson 04.
#
# ## Bug 4: one caller at a time
#
# The tutorial's server answers a caller, then serves that caller until they hang up,
# and only then goes back to the doorbell. Everyone else is left ringing.
# `one_at_a_time=True` gives our server exactly that shape:

# %%
single = start_server(loud_echo, "single", one_at_a_time=True)

first = connect(single.address)
first.sendall(b"first caller\n")
print("first caller hears:", first.recv(1024))

second = connect(single.address)  # the kernel answers the doorbell for us...
second.sendall(b"second caller\n")  # ...and even takes the data
print("lines being served:", single.open_lines())
print("callers waiting at the door:", single.waiting())  # None where the system cannot count them (not Linux)

# %% [markdown]
# The second caller got through — the operating system completed the connection and
# stored the data — but nobody serves them. Their reply does not come (we wait
# 0.2 s to show it):

# %%
ready, _, _ = select.select([second], [], [], 0.2)
print("any reply for the second caller?", bool(ready))

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
# it: a thread per call. (`start_server` already does that unless you ask for
# `one_at_a_time`.)

# %%
fragile.stop()
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
# Open a terminal (in JupyterLab: *File → New → Terminal*) and type the command
# printed above, with your port. Type a line and press Enter: it comes straight back.
# Press Ctrl+D to say you have finished (with Debian's `nc`, add `-N` so it hangs up
# its side then), or Ctrl+C to leave. Try sending a few lines before you hang up, then
# look at `echo.log.show()` in a new cell to see each piece the server received.
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
#   up early. They also use a socket whose `send()` writes only 3 bytes at a time.

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
