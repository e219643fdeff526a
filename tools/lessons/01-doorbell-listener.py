# %% [markdown]
# # 01 · The doorbell: a listening socket
#
# Every chat app, web site and game server starts the same way: a program on one
# computer, the **server**, waits for other programs, its **clients**, to get in touch.
# Most of them talk **TCP** (the Transmission Control Protocol): the set of rules
# computers follow to hold a reliable conversation over a network, with nothing lost
# and nothing out of order. In TCP, the thing that waits is called a **listener**.
#
# Think of it as a **doorbell**. A doorbell does not talk to anyone. It sits by the door
# and tells you that somebody would like to come in. Only a server needs one; a client
# just walks up and rings.
#
# In this lesson you will install a doorbell one step at a time, ring it, find out what
# happens when nobody is home, and learn why this course always asks the operating
# system to choose the port. At the end you write `open_doorbell()` yourself.
#
# Run the cells from top to bottom (Shift+Enter). Everything happens on your own
# computer: nothing here is reachable from the network.

# %%
import tcplessons
print(tcplessons.versions())  # the versions you run: paste this line if you ask for help
tcplessons.explain_errors()  # adds a line under socket errors: what they mean, which lesson

import socket

from IPython.display import display

from tcplessons import Switchboard, call, check, start_echo_server, stop_all

# %% [markdown]
# ## Step 1: a socket
#
# A **socket** is the operating system's object for one end of a network conversation.
# Python's `socket` module hands it to you. Two choices go in:
#
# - `AF_INET`: addresses are IPv4 addresses, four numbers such as `127.0.0.1`;
# - `SOCK_STREAM`: the conversation is TCP, a reliable **stream** of bytes (lesson 02 is
#   all about what "stream" means).
#
# A brand-new socket has no address yet: nobody could find it.

# %%
doorbell = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
print(doorbell.family.name, doorbell.type.name)

# %% [markdown]
# ## Step 2: `bind()` — put the doorbell on a door
#
# An address has two parts: a **host** (which computer, or which of its network
# cards) and a **port** (which door of that computer — a number from 1 to 65535).
#
# We bind to host `127.0.0.1`, called **loopback**: it means "this computer, talking
# to itself". And we ask for port **0**, which means "operating system, please pick a
# free port for me". Afterwards we ask the socket for its own address with
# `getsockname()`, to learn which port it got (your number will differ from the one
# printed here: the operating system picks it).

# %%
doorbell.bind(("127.0.0.1", 0))
print("bound to", doorbell.getsockname())

# %% [markdown]
# **Why port 0?** Many tutorials pick a fixed number, such as 6379. Two things go wrong
# with that:
#
# - 6379 already belongs to a well-known program (the Redis database). If Redis runs on
#   your computer, your server cannot start — or worse, your client talks to Redis.
# - On a shared JupyterHub, the learner next door runs the same notebook on the same
#   machine. Only one of you can have port 6379; the other gets an error.
#
# With port 0 everyone gets their own free port, every time. Ports below 1024 are
# reserved for system services (web servers use 80 and 443): a program usually needs
# administrator rights to use them, so the operating system never picks one for port 0.
# Ports from 1024 to 65535 are for ordinary programs like ours. Let's check ours:

# %%
host, port = doorbell.getsockname()
print("a port for ordinary programs (1024-65535):", 1024 <= port <= 65535)

# %% [markdown]
# ## Step 3: `listen()` — switch the doorbell on
#
# `bind()` gave the socket an address, but it still does not answer anyone. `listen()`
# turns it into a doorbell. Its argument, the **backlog**, is how many callers the
# operating system may keep waiting in line before your program gets round to them.

# %%
doorbell.listen(5)
print("listening on", doorbell.getsockname())

# %% [markdown]
# ## Step 4: somebody rings
#
# A client rings with its socket's `connect(address)` method. Before anyone can talk,
# the two computers' operating systems exchange three short packets, TCP's
# **handshake** (a *packet* is one small parcel of data sent over the network). Here
# caller and doorbell are on one computer, so one operating system plays both parts:
#
# | | the caller's side | | the doorbell's side |
# |---|---|---|---|
# | 1 | **SYN** ("synchronise"): "hello, may we talk?" | → | |
# | 2 | | ← | **SYN-ACK**: "I heard you (ACK, *acknowledged*), and hello to you too (SYN)" |
# | 3 | **ACK**: "I heard you too" | → | |
#
# `connect()` sends packet 1 and returns when packet 2 has arrived (its operating
# system sends packet 3 by itself). Here is the surprising part: on the doorbell's
# side, the **operating system** answers with packet 2 by itself, as soon as the
# caller rings. Our program has not answered anything yet, and still the caller's
# `connect()` succeeds. The finished call waits in the **backlog**, the line of
# callers from step 3.
#
# (`settimeout(5)` makes every later call on this socket give up after 5 seconds
# instead of waiting forever, should something go wrong.)

# %%
caller = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
caller.settimeout(5)
caller.connect(doorbell.getsockname())
print("the caller is connected to", caller.getpeername())  # the address of the other end

# %% [markdown]
# From now on we dial with `socket.create_connection(address, timeout=5)`: it does
# those three lines in one call (a new socket, its timeout, then `connect()`).

# %% [markdown]
# ## Step 5: `accept()` — open the door
#
# `accept()` takes the first finished call out of the backlog and hands back **a
# brand-new socket** for talking to that one caller, plus the caller's address. The
# doorbell itself stays on the door, ready for the next visitor. (If nobody were
# waiting, `accept()` would wait; the timeout stops it from waiting forever.)
#
# The caller has an address too: `connect()` gave the caller's socket an address of its
# own, the same host and a port the operating system picked. So the new socket's
# `getpeername()` (the other end) is the caller's `getsockname()` (its own address):

# %%
doorbell.settimeout(5)
line, who = doorbell.accept()
print("accept() returned a new socket:", line is not doorbell)
print("the caller's host:", who[0])
print("the caller's address, seen from the new socket:", line.getpeername() == caller.getsockname())

# %% [markdown]
# The new socket is the **phone line** for this caller. Lesson 02 picks up from here.
# For now we hang up both ends.

# %%
line.close()
caller.close()

# %% [markdown]
# ## Nobody home: `ConnectionRefusedError`
#
# What if you ring a door with no working doorbell? The operating system on the other
# side answers the caller's first handshake packet with a refusal, "nobody is
# listening here", and the `connect()` inside `create_connection()` raises
# `ConnectionRefusedError`. You see this when the server is not running yet, has
# crashed, or when you typed the wrong port.
#
# To show it reliably, we take a socket that is bound but **not** listening: the port
# is reserved for us, but no doorbell is switched on. The second cell below ends in a
# red error message on purpose: the red error is the point, nothing broke.

# %%
not_listening = socket.socket()
not_listening.bind(("127.0.0.1", 0))

# %% tags=["raises-exception"]
socket.create_connection(not_listening.getsockname(), timeout=5)

# %%
not_listening.close()

# %% [markdown]
# ## "Address already in use", reason 1: somebody is still listening
#
# Only one listener can own a port. If a listener from an earlier cell is still open
# and you bind again to its port, `bind()` raises `OSError: Address already in use`.
# This is what happens when you re-run a cell that binds a fixed port: the old socket
# from the first run still listens.
#
# Our `doorbell` is still listening, so let's try to take its port (again, the red error
# below is the point):

# %%
again = socket.socket()

# %% tags=["raises-exception"]
again.bind(doorbell.getsockname())

# %% [markdown]
# The fix is to close the old listener first (or, better, use port 0 so runs never
# compete for a port).

# %%
again.close()
doorbell.close()
print("the doorbell is closed")

# %% [markdown]
# ## "Address already in use", reason 2: a server on that port just stopped
#
# One more case gives the same message, and it puzzles everybody once: you stop a
# server that used a **fixed** port, start it again at once, and `bind()` says "Address
# already in use" although nothing listens there any more. For a minute or so after
# its calls end, the operating system keeps a short record of them on that port (this
# record is called TIME_WAIT; lesson 09 explains why it exists), and by default a new
# listener may not bind while it does.
#
# The one thing to know: a server sets the socket option `SO_REUSEADDR` **before**
# `bind()`,
#
# ```python
# listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
# ```
#
# and then it can bind again at once after a restart. `socket.create_server(address)`,
# the one-call shortcut for `socket()`, `bind()` and `listen()` that the next lessons
# use, sets it for you (on Linux and macOS; Windows does not need it). It does **not**
# let two listeners share a port: reason 1 still fails.
#
# So when you see "Address already in use", ask: *is something still listening there*
# (close it), or *did a server on that fixed port just stop* (use `SO_REUSEADDR`, or
# `create_server()`)? With port 0, as everywhere in this course, neither comes up.

# %% [markdown]
# ## 127.0.0.1 or 0.0.0.0?
#
# The host you bind to decides **who can ring**:
#
# - `127.0.0.1` (loopback): only programs on this same computer.
# - `0.0.0.0` (also written `""`): every network card — anyone on your Wi-Fi, your
#   university's network, or the internet, if nothing blocks them. `0.0.0.0` means
#   "any of my addresses". (You may also meet it as the address of a socket that is
#   not bound yet: "any", because nothing has been chosen.)
#
# A practice server has bugs by design, so it should only listen on loopback. Every
# server in this course does; binding `0.0.0.0` is something you opt into on purpose,
# once your server is ready for strangers.

# %% [markdown]
# ## A live switchboard
#
# `tcplessons` can start real servers in the background of this notebook, so you can
# call them from the next cell. `start_echo_server()` starts one that sends back
# whatever it receives. It binds `127.0.0.1`, port 0, and is listening by the time the
# call returns.
#
# The **Switchboard** below shows its doorbell and one row per call (a "line"). It
# follows the server live: run the next cells and watch it change. (`display(board)`
# shows it below the cell; `print(echo)` shows the server's name and state.)

# %%
echo = start_echo_server()
print(echo)
board = Switchboard(echo)
display(board)

# %% [markdown]
# A cell can ring too. `call(address, data)` is a whole short phone call: dial, say
# `data`, tell the server we are done talking, and return everything the server says
# before it hangs up. `b"hello"` (with a `b` before the quotes) is **bytes**, what
# sockets carry instead of text; lesson 02 explains the difference.
# The server writes down everything it does in `echo.log`; we wait until it has
# closed the line, then print the board as text.

# %%
print(call(echo.address, b"hello"))
echo.log.wait_for("closed", line=1, timeout=5)
print(board.text())

# %% [markdown]
# `board.ring()` does what the board's "Ring the doorbell" button does: it dials and
# keeps the line open.

# %%
kept = board.ring()
echo.log.wait_for("connected", line=2, timeout=5)
print(board.text())

# %% [markdown]
# Your turn: click "Ring the doorbell" on the board above a few times, then "Hang up"
# on one of the lines. The rows change as the server answers and hangs up. (Clicking
# changes only the picture; the cells below do not depend on it.)

# %% [markdown]
# ## The backlog: callers waiting in line
#
# The echo server talks to every caller at once (lesson 05 shows how). What if a
# server can only talk to **one caller at a time**? Everyone else waits in the
# backlog: their connection is complete (the operating system answered), but the
# program has not called `accept()` for them yet.
#
# Here is a one-at-a-time server, with a board of its own:

# %%
busy = start_echo_server("busy", one_at_a_time=True)
busy_board = Switchboard(busy)
display(busy_board)

# %% [markdown]
# We ring it three times, and print how the board looks at that moment:

# %%
for _ in range(3):
    busy_board.ring()
busy.log.wait_for("connected", line=1, timeout=5)
busy_board.refresh()
print(busy_board.text())

# %% [markdown]
# Line 1 is talking; two callers wait in line. When line 1 hangs up, the server
# accepts the next one:

# %%
busy_board.hang_up(1)
busy.log.wait_for("connected", line=2, timeout=5)
busy_board.refresh()
print(busy_board.text())

# %% [markdown]
# A caller in the backlog cannot tell that nobody is listening to them yet: their
# `connect()` succeeded. That is why a one-at-a-time server feels "stuck" to everyone
# but the first caller. Lesson 05 fixes it.

# %% [markdown]
# ## Exercise: `open_doorbell()`
#
# Write a function `open_doorbell()` that returns a **TCP socket listening on
# `127.0.0.1`, on a port the operating system picks**.
#
# - Return the socket itself, not its address.
# - Call it twice and you must get two independent doorbells, each on its own port.
# - Do not call `accept()` inside: answering is someone else's job.
#
# The next cell runs the checks. They ring your doorbell for real and close every
# socket your function opens.

# %% tags=["exercise"]
def open_doorbell():
    raise NotImplementedError("Write open_doorbell(): return a TCP socket listening on 127.0.0.1, on a port the operating system picks")

# %% tags=["check"]
check("open_doorbell", open_doorbell)

# %% [markdown]
# ## Recap
#
# - A listener is a doorbell: `socket()` → `bind()` → `listen()`, then `accept()` for
#   each caller.
# - The operating system completes a caller's connection before you `accept()` it;
#   callers wait in the backlog.
# - `connect()` waits for TCP's handshake (SYN, SYN-ACK, ACK), which the operating
#   system on the listening side answers by itself.
# - `ConnectionRefusedError`: nobody listens on that port.
# - Port 0 lets the operating system choose a free port; fixed ports collide.
# - "Address already in use": a listener is still open there (close it), or a server
#   on that fixed port just stopped (set `SO_REUSEADDR` before `bind()`, as
#   `create_server()` does).
# - Practice servers listen on `127.0.0.1` only.
#
# **Next: 02 · The phone call** — what you can do with the socket `accept()` gives you.
#
# We hang up and stop every server this notebook started:

# %%
kept.close()
board.close()
busy_board.close()
stop_all()
print(echo)
print(busy)
