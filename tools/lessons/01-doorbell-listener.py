# %% [markdown]
# # 01 · The doorbell: a listening socket
#
# Every chat app, web site and game server starts the same way: a program on one
# computer waits for other programs to get in touch. In TCP, the thing that waits is
# called a **listener**.
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
print(tcplessons.versions())
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
# - `AF_INET`: addresses are IPv4 addresses such as `127.0.0.1`;
# - `SOCK_STREAM`: the conversation is TCP, a reliable **stream** of bytes (lesson 02 is
#   all about what "stream" means).
#
# A brand-new socket has no address yet: nobody could find it. When you ask for its
# address anyway, you get `('0.0.0.0', 0)`: that is the operating system's way of
# writing "no address yet" (no host chosen, no port).

# %%
doorbell = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
print(doorbell.family.name, doorbell.type.name)
print("address so far:", doorbell.getsockname())

# %% [markdown]
# ## Step 2: `bind()` — put the doorbell on a door
#
# An address has two parts: a **host** (which computer, or which of its network
# cards) and a **port** (which door of that computer — a number from 1 to 65535).
#
# We bind to host `127.0.0.1`, called **loopback**: it means "this computer, talking
# to itself". And we ask for port **0**, which means "operating system, please pick a
# free port for me". Afterwards the socket tells us which one it got.

# %%
doorbell.bind(("127.0.0.1", 0))
host, port = doorbell.getsockname()
print("bound to", doorbell.getsockname())
print("a port for ordinary programs (1024-65535):", 1024 <= port <= 65535)

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
# Now a client can connect. Here is the surprising part: the operating system
# completes the connection (TCP's "handshake") **by itself**, as soon as the caller
# rings. Our program has not answered anything yet, and still the caller's
# `create_connection()` succeeds — the call is waiting in the backlog.

# %%
caller = socket.create_connection(doorbell.getsockname(), timeout=5)
print("the caller is connected to", caller.getpeername())

# %% [markdown]
# ## Step 5: `accept()` — open the door
#
# `accept()` takes the first caller out of the line and hands back **a brand-new
# socket** for talking to that one caller, plus the caller's address. The doorbell
# itself stays on the door, ready for the next visitor. (If nobody were waiting,
# `accept()` would wait; the timeout stops it from waiting forever.)

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
# side answers "nobody is listening here", and `connect()` raises
# `ConnectionRefusedError`. You see this when the server is not running yet, has
# crashed, or when you typed the wrong port.
#
# To show it reliably, we take a socket that is bound but **not** listening: the port
# is reserved for us, but no doorbell is switched on.

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
# Our `doorbell` is still listening, so let's try to take its port:

# %%
again = socket.socket()

# %% tags=["raises-exception"]
again.bind(doorbell.getsockname())

# %% [markdown]
# The fix is to close the old listener first (or, better, use port 0 so runs never
# compete for a port).

# %%
again.close()
old_address = doorbell.getsockname()
doorbell.close()
print("the doorbell is closed")

# %% [markdown]
# ## "Address already in use", reason 2: TIME_WAIT
#
# There is a second, different cause with the same message. When a TCP connection
# ends, the side that hung up first keeps a small record of it for a while (the
# **TIME_WAIT** state): 60 seconds on Linux, up to 4 minutes on some other systems. It
# is there so that a late, delayed packet of the old call cannot be mistaken for part
# of a new one.
#
# That record still uses the port. So right after a server stops, a new listener on
# the *same* fixed port may fail even though nobody is listening any more. Let's make
# exactly that happen: a short call in which the server hangs up first, then the
# listener closes.

# %%
server = socket.socket()
# Like every well-behaved server, this one sets SO_REUSEADDR (more on it below). On
# Linux, a new listener may reuse the port only if the old one had set it too.
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen()
address = server.getsockname()
client = socket.create_connection(address, timeout=5)
server.settimeout(5)
conversation, _ = server.accept()
conversation.close()  # the server hangs up first: its side keeps the TIME_WAIT record
client.close()
server.close()  # no listener left on this port
print("nobody listens on the port any more")

# %%
fresh = socket.socket()

# %% tags=["raises-exception"]
fresh.bind(address)

# %% [markdown]
# The socket option **`SO_REUSEADDR`** says "I know about TIME_WAIT records, let me
# bind anyway". Set it *before* `bind()`. It only helps if the old listener set it
# too, as our `server` above did: the lines `accept()` hands out inherit the option,
# and it is such a line that keeps the TIME_WAIT record. So servers should always set
# it; `socket.create_server()` does it for you.

# %%
fresh.close()
fresh = socket.socket()
fresh.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
fresh.bind(address)
fresh.listen()
print("listening again on the same port, thanks to SO_REUSEADDR")

# %% [markdown]
# But `SO_REUSEADDR` does **not** let two listeners share a port. With `fresh` still
# listening, reason 1 is back, option or not (on Linux and macOS; on Windows the option
# means something else and *does* let a second socket take a port in use, which is why
# `create_server()` does not set it there):

# %%
third = socket.socket()
third.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

# %% tags=["raises-exception"]
third.bind(address)

# %%
third.close()
fresh.close()

# %% [markdown]
# So when you see "Address already in use", ask: *is something still listening there*
# (close it), or *did a server just stop* (TIME_WAIT: `SO_REUSEADDR` helps, when both
# the old and the new listener set it)? With port 0 neither comes up. The course's own
# servers use `socket.create_server()`, which sets `SO_REUSEADDR` for you on Linux and
# macOS.

# %% [markdown]
# ## 127.0.0.1 or 0.0.0.0?
#
# The host you bind to decides **who can ring**:
#
# - `127.0.0.1` (loopback): only programs on this same computer.
# - `0.0.0.0` (also written `""`): every network card — anyone on your Wi-Fi, your
#   university's network, or the internet, if nothing blocks them.
#
# A practice server has bugs by design, so it should only listen on loopback. Every
# server in this course does; binding all interfaces is something you opt into on
# purpose, once your server is ready for strangers.

# %% [markdown]
# ## A live switchboard
#
# `tcplessons` can start real servers in the background of this notebook, so you can
# call them from the next cell. `start_echo_server()` starts one that sends back
# whatever it receives. It binds `127.0.0.1`, port 0, and is listening by the time the
# call returns.
#
# The **Switchboard** below shows its doorbell and one row per call (a "line"). It
# follows the server live: run the next cells and watch it change.

# %%
echo = start_echo_server()
print(echo)
print("try it from a terminal:", echo.nc_command())
board = Switchboard(echo)
display(board)

# %% [markdown]
# A cell can ring too. `call(address, data)` is a whole short phone call: dial, say
# `data`, hang up our side, and return everything the server said before it hung up.
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
# The echo server answers every caller at once, in a thread of its own. What if a
# server can only talk to **one caller at a time**? Everyone else waits in the
# backlog: their connection is complete (the operating system answered), but the
# program has not called `accept()` for them yet.
#
# Let's ring a one-at-a-time server three times.

# %%
busy = start_echo_server("busy", one_at_a_time=True)
busy_board = Switchboard(busy)
display(busy_board)
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
# but the first caller. Lesson 05 fixes it with a thread per caller.

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
# - `ConnectionRefusedError`: nobody listens on that port.
# - Port 0 lets the operating system choose a free port; fixed ports collide.
# - "Address already in use" has two causes: a listener still open (close it), or
#   TIME_WAIT after a server stopped (`SO_REUSEADDR`, set by every server).
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
