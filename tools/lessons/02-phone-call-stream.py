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
print(tcplessons.versions())  # the versions you run: paste this line if you ask for help
tcplessons.explain_errors()  # adds a line under socket errors: what they mean, which lesson

import socket

from IPython.display import display

from tcplessons import Switchboard, check, deliver_in_pieces, start_echo_server, stop_all, wait_for_bytes

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
print("line_a is Alice's call:", line_a.getpeername() == alice.getsockname())
print("line_b is Bob's call:", line_b.getpeername() == bob.getsockname())

# %% [markdown]
# Talking takes two socket methods: `sock.sendall(data)` sends bytes down the line,
# and `sock.recv(1024)` returns the bytes that have arrived, up to 1024 of them (more
# about that number below). What Alice says arrives on `line_a` only; what Bob says
# arrives on `line_b` only. (The `b` before the quotes makes **bytes**, not text: the
# next section, "Bytes, not text", explains why.)

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
# `connection.send("Hi back!")` (`send()` is `sendall()`'s simpler sibling; the
# difference comes later in this lesson). Here is what that really does:

# %% tags=["raises-exception"]
line_a.send("Hi back!")

# %% [markdown]
# Two fixes: write a bytes literal, `b"Hi back!"`, or encode a string with
# `.encode()`. It uses **UTF-8** unless told otherwise, the usual way to write text
# of any language as bytes. Watch the lengths: in UTF-8 one character can take
# several bytes, so "how many characters" and "how many bytes" are different questions.
# (Decoding each `recv()` on its own is only safe when the whole text has arrived —
# lessons 03 and 04 show what happens when a character is split between two reads.)
#
# When Python prints bytes, a byte that is not a plain ASCII character (English letters,
# digits, punctuation) appears as `\x` plus two hexadecimal digits: below, `ë` became the
# two bytes `\xc3\xab`. You will meet this notation again in every lesson.

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
# Wait (without reading) until all 11 bytes have arrived: some systems hold a small
# write back for a moment while an earlier one is unacknowledged (Nagle's algorithm).
wait_for_bytes(line_a, 11, timeout=5)
print(line_a.recv(1024))

# %% [markdown]
# On a real network it gets worse: a 1 MB message arrives in many pieces of
# unpredictable sizes, and even a short one can be split. On this computer, talking to
# itself, that rarely happens — which is exactly why code that assumes "one `recv()` is
# one message" seems to work until the day it doesn't.
#
# To see that day now, the course has a helper, `deliver_in_pieces(line, at_most=5)`.
# It hands back a socket for the same call whose `recv()` gives at most 5 bytes at a
# time, however many have arrived, as a slow network might. From then on we use that
# socket instead of the old one. (The exercise checks use the same trick on your
# code.) Many tutorials read a message with a single `recv(1024)`:

# %%
dan = socket.create_connection(doorbell.getsockname(), timeout=5)
line_d, _ = doorbell.accept()
slow_line = deliver_in_pieces(line_d, at_most=5)  # Dan's call, now in pieces of 5 bytes
dan.sendall(b"Hello, this is one message")
message = slow_line.recv(1024)  # "one recv() is one message", as many tutorials think
print(message)

# %% [markdown]
# Only the start of the message came out; the rest is still waiting in the socket.
# When you need exactly n bytes, you call `recv()` in a loop until you have them. That
# is your first exercise.
#
# One more `recv()` gives the next 5 bytes; then we hang up.

# %%
print(slow_line.recv(1024))
dan.close()
slow_line.close()

# %% [markdown]
# ## `b""` means the other side hung up
#
# When there is nothing to read yet, `recv()` waits. When the other side has hung up,
# `recv()` returns at once with **empty bytes**, `b""` — and keeps returning `b""`
# every time you ask. That empty result is the *only* way a reader learns that no more
# bytes will come, so every reading loop must check for it. (Further down you meet a
# caller who says "I'm done talking" without hanging up: for the reader that is `b""`
# too.)

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
#   `EOFError`, Python's exception for "the data ended too early" (do not return the
#   short data, and do not loop forever).
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
# First, two words this section needs. The operating system keeps a **buffer** for each
# socket, a waiting room for bytes: a *send buffer* for bytes on their way out and a
# *receive buffer* for bytes that arrived but nobody has read yet. When the reader does
# not read, its receive buffer fills up, then the sender's send buffer. Without a
# timeout, a `send()` that finds no room usually *waits* until the reader makes some:
# the socket **blocks**. But it may still return early, having taken only part of your
# data: so use `sendall()`, as this section shows. A socket switched to
# **non-blocking** mode, with `setblocking(False)`, never waits: it does what it can at
# once, and raises `BlockingIOError` if it can do nothing at all.
#
# `send(data)` hands bytes to the operating system and returns **how many it took**.
# That can be fewer than you gave it: the operating system only has so much buffer
# space for a line. Here a fourth caller, Carol, sends 1 MB at a time to a server that
# is not reading. We make her socket non-blocking, so `send()` returns at once with
# whatever fitted instead of waiting (and raises `BlockingIOError` if nothing fits).
#
# How much fits depends on the computer: some take a whole megabyte or more at once.
# So Carol keeps sending until the operating system takes less than she gave it.
# Bigger buffers only move the limit; they never remove it.

# %%
carol = socket.create_connection(doorbell.getsockname(), timeout=5)
line_c, _ = doorbell.accept()  # the server picks up but does not read
carol.setblocking(False)
big = bytes(1024 * 1024)  # 1 MB of zero bytes
taken = []  # how many bytes each send() took
try:
    for _ in range(64):  # at most 64 MB: more than any buffer
        taken.append(carol.send(big))
        if taken[-1] < len(big):
            break
except BlockingIOError:  # the buffers were full: not one byte fitted
    taken.append(0)
print("the last send() took less than it was given:", taken[-1] < len(big))

# %% [markdown]
# The numbers themselves depend on your computer (that is why this cell's output is
# not compared when the course tests itself): every `send()` but the last took the
# whole megabyte, 1048576 bytes; the last one took less, maybe 0.

# %% tags=["nbval-ignore-output"]
print("each send() took:", taken)

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
# Let's watch this on the course's echo server (lesson 01), which sends back every
# byte it gets until its `recv()` returns `b""`. The Switchboard shows the server's
# lines live.

# %%
echo = start_echo_server()
board = Switchboard(echo)
display(board)

# %% [markdown]
# We dial and say something. The cell waits until the server has sent the echo back
# (the server writes everything it does in `echo.log`), so the reply is already here.

# %%
phone = socket.create_connection(echo.address, timeout=5)
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
# The board shows what the server saw. While the cell ran, the live board above showed
# line 1 as **caller done talking** for a moment (the server's `recv()` returned `b""`,
# yet it could still send); the text printed here is the final state, **closed after
# the caller finished** (the server hung up its side too). From the server's side,
# `shutdown(SHUT_WR)` and `close()` look the same — both make its `recv()` return
# `b""` — but only after `shutdown(SHUT_WR)` can the caller still hear the answer.
#
# That is how a client says "that was my whole request, now answer me" — the
# `recv_all()` exercise below reads exactly such an answer.
#
# (The board has buttons too: "Ring the doorbell" dials the echo server and keeps the
# line open; "Hang up" ends a line from the server's side. Try them whenever you like.)
#
# `close()` is different: after it, the socket is gone and even reading fails. The
# error's "Bad file descriptor" (Windows words it differently) is the operating system
# saying "this socket is closed": a *file descriptor* is its number for an open socket
# or file, and a closed socket no longer has one.

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
# - `recv()` returning `b""` means the other side hung up, or is done talking: no more
#   bytes will come.
# - `send()` may take only part of your data; `sendall()` sends it all.
# - `shutdown(SHUT_WR)`: done talking, still listening. `close()`: hang up.
# - Both sides can talk at the same time.
#
# **Next: 03 · An echo server, live** — the echo server and client of a beginner's
# article, their bugs found and fixed.
#
# Last, we hang up every line and stop the server:

# %%
line_b.close()
bob.close()
doorbell.close()
board.close()
stop_all()
print(echo)
