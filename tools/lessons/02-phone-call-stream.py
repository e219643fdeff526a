# %% [markdown]
# # 02 · The phone call: a stream of bytes
#
# In lesson 01 the doorbell rang and `accept()` handed us a new socket. That socket is
# a **phone line**: a private connection between our program and one caller. Both ends
# can talk and listen, for as long as the call lasts, until one of them hangs up.
#
# TCP calls this a **stream**. The word matters: what travels down the line is a
# stream of bytes, like water through a pipe — not a list of separate messages. This
# lesson shows what that means in practice, and you write the two functions every
# TCP program needs: `recv_exactly(sock, n)` and `recv_all(sock)`.

# %%
import tcplessons
print(tcplessons.versions())
tcplessons.explain_errors()  # adds a line under socket errors: what they mean, which lesson

import socket

from IPython.display import display

from tcplessons import Switchboard, check, connect, start_echo_server, stop_all
from tcplessons.exercises.tools import ShortRecvSocket

# %% [markdown]
# ## One doorbell, one line per caller
#
# Two people ring the same doorbell. Each `accept()` hands back a socket of its own, so
# the server ends up with three sockets: the doorbell and two lines.
# (`socket.create_server()` does lesson 01's `socket()`, `bind()` and `listen()` in one
# call.)

# %%
doorbell = socket.create_server(("127.0.0.1", 0))
doorbell.settimeout(5)
alice = socket.create_connection(doorbell.getsockname(), timeout=5)
bob = socket.create_connection(doorbell.getsockname(), timeout=5)

line_a, _ = doorbell.accept()  # callers come out of the backlog in the order they rang
line_b, _ = doorbell.accept()
print("three different sockets:", len({doorbell.fileno(), line_a.fileno(), line_b.fileno()}) == 3)
print("line_a is Alice's call:", line_a.getpeername() == alice.getsockname())
print("line_b is Bob's call:", line_b.getpeername() == bob.getsockname())

# %% [markdown]
# What Alice says arrives on `line_a` only; what Bob says arrives on `line_b` only.

# %%
alice.sendall(b"Hi, it's Alice")
bob.sendall(b"Bob here")
print(line_b.recv(1024))
print(line_a.recv(1024))

# %% [markdown]
# ## Bytes, not text
#
# A socket carries **bytes** (values 0–255), never Python `str` text. Text has to be
# *encoded* into bytes first, and the receiver *decodes* it. Many tutorials show
# `connection.send("Hi back!")`. Here is what that really does:

# %% tags=["raises-exception"]
line_a.send("Hi back!")

# %% [markdown]
# Two fixes: write a bytes literal, `b"Hi back!"`, or encode a string with
# `.encode()` (UTF-8 by default). Watch the lengths: in UTF-8 one character can take
# several bytes, so "how many characters" and "how many bytes" are different questions.
# (Decoding each `recv()` on its own is only safe when the whole text has arrived —
# lessons 03 and 04 show what happens when a character is split between two reads.)

# %%
greeting = "Hi back, Zoë!"
data = greeting.encode()
print(data)
print(len(greeting), "characters became", len(data), "bytes")
line_a.sendall(data)
reply = alice.recv(1024)  # short, on one computer: all 14 bytes arrive together
print(reply.decode())

# %% [markdown]
# ## `recv(n)` gives you *up to* n bytes
#
# `recv(n)` does not mean "give me n bytes". It means "give me whatever has arrived,
# but no more than n". Alice sends ten bytes; we ask for four at a time:

# %%
alice.sendall(b"0123456789")
print(line_a.recv(4))
print(line_a.recv(4))
print(line_a.recv(4))  # only two were left: recv() does not wait for more

# %% [markdown]
# And the other way round: three separate `sendall()` calls can come out of **one**
# `recv()`. The stream keeps the bytes in order but forgets where one write ended and
# the next began — like a phone line, which carries your voice, not your sentences.

# %%
alice.sendall(b"one")
alice.sendall(b"two")
alice.sendall(b"three")
print(line_a.recv(1024))

# %% [markdown]
# On a real network it gets worse: a 1 MB message arrives in many pieces of
# unpredictable sizes, and even a short one can be split. On this computer, talking to
# itself, that rarely happens — which is exactly why code that assumes "one `recv()` is
# one message" seems to work until the day it doesn't.
#
# To see that day now, `ShortRecvSocket` wraps a real socket so that each `recv()`
# returns at most 5 bytes, as a slow network might. (The exercise checks use the same
# trick.) Many tutorials read a message with a single `recv(1024)`:

# %%
dan = socket.create_connection(doorbell.getsockname(), timeout=5)
line_d, _ = doorbell.accept()
slow_line = ShortRecvSocket.adopt(line_d, limit=5)  # slow_line now owns line_d's connection
dan.sendall(b"Hello, this is one message")
message = slow_line.recv(1024)  # the tutorial's "one recv() is one message"
print(message)

# %% [markdown]
# Only the start of the message came out; the rest is still waiting in the socket.
# When you need exactly n bytes, you call `recv()` in a loop until you have them. That
# is your first exercise.

# %%
print(slow_line.recv(1024))
dan.close()
slow_line.close()

# %% [markdown]
# ## `b""` means the other side hung up
#
# When there is nothing to read yet, `recv()` waits. When the other side has hung up,
# `recv()` returns at once with **empty bytes**, `b""` — and keeps returning `b""`
# every time you ask. That empty result is the *only* way a reader learns the call is
# over, so every reading loop must check for it.

# %%
alice.close()
print(line_a.recv(1024))
print(line_a.recv(1024))
line_a.close()

# %% [markdown]
# ## Exercise 1: `recv_exactly(sock, n)`
#
# Write `recv_exactly(sock, n)` that returns **exactly `n` bytes** read from `sock`, as
# `bytes`, however the sender's writes were split up.
#
# - Keep calling `sock.recv()` until you have `n` bytes. Never ask for more than you
#   still need: the bytes after the n-th belong to whoever reads next.
# - If `recv()` returns `b""` before you have `n` bytes, the caller hung up: raise
#   `EOFError` (do not return the short data, and do not loop forever).
# - `recv_exactly(sock, 0)` returns `b""`.
#
# The checks feed your function real sockets that deliver 1, 5 or 4096 bytes at a
# time, a 1 MB message, bytes that are not text, and callers who hang up early.

# %% tags=["exercise"]
def recv_exactly(sock, n):
    raise NotImplementedError("Write recv_exactly(sock, n): call sock.recv() until you have exactly n bytes, and raise EOFError if it returns b'' first")

# %% tags=["check"]
check("recv_exactly", recv_exactly)

# %% [markdown]
# ## `send()` versus `sendall()`
#
# `send(data)` hands bytes to the operating system and returns **how many it took**.
# That can be fewer than you gave it: the operating system only has so much buffer
# space for a line. Here a fourth caller, Carol, sends 1 MB to a server that is not
# reading. We make her socket non-blocking, so `send()` returns at once with whatever
# fitted instead of waiting.
#
# How much fits depends on the computer: some give a line many megabytes of buffer.
# So that you see the same thing on every computer, we give both ends of Carol's line
# small buffers (64 kB) first. Bigger buffers only move the limit; they never remove it.

# %%
carol = socket.create_connection(doorbell.getsockname(), timeout=5)
line_c, _ = doorbell.accept()  # the server picks up but does not read
carol.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)  # Carol's outgoing buffer
line_c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)  # the server's incoming buffer
carol.setblocking(False)
big = bytes(1024 * 1024)
taken = carol.send(big)
print("send() took all 1 MB:", taken == len(big))
print("send() took some of it:", 0 < taken < len(big))

# %% [markdown]
# Code that calls `send()` and ignores the number it returns silently loses the rest.
# `sendall(data)` loops for you until every byte has been handed over (waiting for the
# reader when the buffer is full). For TCP, **use `sendall()`**.
#
# We hang up on Carol; her unsent bytes go nowhere.

# %%
carol.close()
line_c.close()
del big

# %% [markdown]
# ## Hanging up: `shutdown()` versus `close()`
#
# There are two ways to end your side of a call:
#
# - `sock.shutdown(socket.SHUT_WR)` says **"I'm done talking — but I'm still
#   listening."** The other side's `recv()` returns `b""`, and it can still answer.
# - `sock.close()` **hangs up the phone**. You cannot send or read any more.
#
# Let's watch this on the course's echo server, which sends back every byte it gets
# until its caller hangs up. The Switchboard shows the server's lines live.

# %%
echo = start_echo_server()
board = Switchboard(echo)
display(board)

# %% [markdown]
# We dial and say something. The cell waits until the server has sent the echo back
# (the server writes everything it does in `echo.log`), so the reply is already here.

# %%
phone = connect(echo.address)
phone.sendall(b"ping")
echo.log.wait_for("sent", line=1, timeout=5)
print(phone.recv(1024))
print(board.text())

# %% [markdown]
# Now we say our last words and then "I'm done talking". The server echoes them, reads
# `b""`, knows no more bytes will come, and hangs up its side. We can still listen:
# first the echo of our last words arrives, then `b""`, the server's hang-up.

# %%
phone.sendall(b"last words")
phone.shutdown(socket.SHUT_WR)
echo.log.wait_for("closed", line=1, timeout=5)
print(phone.recv(1024))
print(phone.recv(1024))
print(board.text())

# %% [markdown]
# That is how a client says "that was my whole request, now answer me" — the
# `recv_all()` exercise below reads exactly such an answer.
#
# (The board has buttons too: "Ring the doorbell" dials the echo server and keeps the
# line open; "Hang up" ends a line from the server's side. Try them whenever you like.)
#
# `close()` is different: after it, the socket is gone and even reading fails.

# %%
phone.close()

# %% tags=["raises-exception"]
phone.recv(1024)

# %% [markdown]
# ## Both sides can talk at once
#
# A phone line works in both directions at the same time (it is **full duplex**). No
# side has to wait for its turn: both can send first, then both read.

# %%
left = socket.create_connection(doorbell.getsockname(), timeout=5)
right, _ = doorbell.accept()
left.sendall(b"hello from the left")
right.sendall(b"hello from the right")
print(right.recv(1024))
print(left.recv(1024))
left.close()
right.close()

# %% [markdown]
# ## Exercise 2: `recv_all(sock)`
#
# Write `recv_all(sock)` that returns **everything the caller sends until it hangs
# up**, as one `bytes` object.
#
# - Keep calling `sock.recv()` until it returns `b""`. A `recv()` that returns fewer
#   bytes than you asked for is *not* the end: more may still be on the way.
# - If the caller hangs up without sending anything, return `b""`.
# - Collect the pieces in a list and join them at the end with `b"".join(pieces)`: it
#   stays fast for many megabytes.
#
# The checks hang up at once, send a few bytes, deliver 1 or 5 bytes per `recv()`, and
# stream 2 MB.

# %% tags=["exercise"]
def recv_all(sock):
    raise NotImplementedError("Write recv_all(sock): call sock.recv() until it returns b'', and return everything it gave you as one bytes object")

# %% tags=["check"]
check("recv_all", recv_all)

# %% [markdown]
# ## Recap
#
# - `accept()` gives every caller a socket of its own; the doorbell stays free.
# - Sockets carry `bytes`: encode text before sending (`send("...")` is a `TypeError`).
# - `recv(n)` returns *up to* n bytes; writes are not messages. Loop to get exactly n.
# - `recv()` returning `b""` means the other side hung up.
# - `send()` may take only part of your data; `sendall()` sends it all.
# - `shutdown(SHUT_WR)`: done talking, still listening. `close()`: hang up.
# - Both sides can talk at the same time.
#
# **Next: 03 · An echo server, live** — a tutorial's echo server and client, their bugs
# found and fixed.
#
# Last, we hang up every line and stop the server:

# %%
line_b.close()
bob.close()
doorbell.close()
board.close()
stop_all()
print(echo)
