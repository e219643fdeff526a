# %% [markdown]
# # 05 · Many callers
#
# So far every server in this course had one caller at a time on its mind. Real servers
# don't: a chat room, a web site or a database has many people on the line at once.
#
# In this lesson you will:
#
# 1. watch a server that answers **one call at a time** keep a second caller waiting,
# 2. fix it with **a thread per call** (a *thread* is a second strand of the same
#    program, running at the same time), by hand and with the standard library,
# 3. see what goes wrong when threads **share** a variable, and the **lock** that fixes it,
# 4. write `serve_many(listener, handler)`, the heart of every threaded server.
#
# Remember the picture: the listening socket is the **doorbell**, and every accepted
# connection is a **phone call** — a line of its own between the server and one caller.

# %%
import tcplessons

print(tcplessons.versions())  # the versions you run: paste this line if you ask for help
tcplessons.explain_errors()  # adds a line under socket errors: what they mean, which lesson

import socket
import socketserver
import threading
import time

from IPython.display import display

from tcplessons import Switchboard, check, connect, start_server, stop_all

# %% [markdown]
# ## 1. A server that answers one call at a time
#
# The article's server from lesson 03 has this shape:
#
# ```python
# while True:
#     conn, address = listener.accept()   # answer the door
#     ...talk to this caller until they hang up...
# ```
#
# While it talks, nobody is at the door. The next caller's phone rings, the operating
# system answers "please hold" for them (that's the **backlog**), and they wait until
# the first caller hangs up.
#
# Let's see it live. Here is a handler that sends back everything a caller says, piece
# by piece as `recv()` returns it, until they hang up; then it hangs up too (`with conn:`
# closes the line however the handler ends). `start_server(..., one_at_a_time=True)`
# runs it the article's way.

# %%
def echo_lines(conn):
    """Send back everything the caller says, until they hang up; then hang up too."""
    with conn:  # closes our end of the line when the handler ends, however it ends
        while True:
            data = conn.recv(1024)
            if not data:  # b"": the caller hung up
                return
            conn.sendall(data)


one = start_server(echo_lines, "one at a time", one_at_a_time=True)
board = Switchboard(one)
display(board)

# %% [markdown]
# The **Switchboard** above shows the doorbell and one row per line. Alice calls first
# and says hello. To hear the answer we read up to the end of the line — one `recv()`
# is not one message (lesson 04), so `read_line` keeps reading until the newline:

# %%
def read_line(sock, limit=1000):
    """Read one line, up to and including b"\n" (one byte at a time: simple, never too far)."""
    line = b""
    while not line.endswith(b"\n") and len(line) < limit:
        byte = sock.recv(1)
        if not byte:  # the other side hung up
            break
        line += byte
    return line


alice = connect(one.address)
alice.sendall(b"hi, I'm Alice\n")
print(read_line(alice))

# %% [markdown]
# Alice stays on the line. Now Bob calls. His `connect()` works at once — the operating
# system put him in the backlog — and he can even send. But nobody is listening to him.
#
# How many callers wait in the backlog is not an event the server hears about, so we
# *ask* until the answer is what we expect, with a time limit, instead of sleeping and
# hoping. Here is a little helper for that: `wait_until(condition)` calls the function
# `condition` again and again until it returns `True`. (`time.monotonic()` is a clock
# in seconds that never jumps backwards, made for measuring how long something took.)
#
# The question we ask is written `lambda: "1 caller waiting" in board.text()`: a
# `lambda` is a one-line function without a name, and `wait_until` calls it again and
# again. (Bob dials with the board's `ring()`, which keeps his call open: the board
# can always count the callers it rang itself, so Bob rings through it.)

# %%
def wait_until(condition, timeout=2.0):
    """Ask condition() again and again until it is true; give up after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"still not true after {timeout} s")
        time.sleep(0.005)  # a short pause between questions, not a guess at timing


bob = board.ring()
bob.sendall(b"hi, I'm Bob\n")
wait_until(lambda: "1 caller waiting" in board.text())
one.log.wait_for("sent", line=1, timeout=2)  # the server has counted Alice's echo
board.refresh()
print(board.text())

# %% [markdown]
# One line open (Alice), one caller waiting. Bob waits for an answer that does not come;
# give him 0.3 seconds:

# %% tags=["raises-exception"]
bob.settimeout(0.3)
bob.recv(1024)

# %% [markdown]
# `TimeoutError`: nothing came back. Bob's words are not lost, though — they sit in
# the operating system's buffer for his not-yet-answered line. When Alice hangs up, the
# server goes back to the door, answers Bob, and finally hears what he said:

# %%
bob.settimeout(5)
alice.close()
one.log.wait_for("connected", line=2, timeout=2)  # the server answered Bob
print(read_line(bob))
one.log.wait_for("sent", line=2, timeout=2)  # so the board has counted the echo too
print(board.text())

# %% [markdown]
# With two callers this is a short wait. With a chat room it is a disaster: whoever is
# connected first keeps the line, and **everyone else waits until they leave**. Try it
# yourself: click "Ring the doorbell" on the board above a few times, and "Hang up" to
# end lines — rings pile up as "callers waiting" while line 2 is open.
#
# ## 2. A thread per call
#
# The fix is to stop talking at the door. When the doorbell rings, the server answers,
# hands the new line to a **thread** — a second strand of the same program that runs
# at the same time — and goes straight back to the door.
#
# Here is that loop by hand, kept to exactly two callers so it ends by itself:

# %%
def serve_two(listener, handler):
    """Answer two callers, each in a thread of its own."""
    for _ in range(2):
        conn, address = listener.accept()  # the doorbell rang: a new line
        thread = threading.Thread(target=handler, args=(conn,), daemon=True)
        thread.start()  # the call goes on over there...
        # ...while this loop goes straight back to accept() for the next caller


listener = socket.create_server(("127.0.0.1", 0))
door = threading.Thread(target=serve_two, args=(listener, echo_lines), daemon=True)
door.start()

with connect(listener.getsockname()) as carol, connect(listener.getsockname()) as dave:
    carol.sendall(b"hi, I'm Carol\n")
    dave.sendall(b"hi, I'm Dave\n")
    # Carol is still on the line, and Dave is answered anyway:
    print(read_line(dave))
    print(read_line(carol))

door.join(timeout=2)  # join(): wait (here at most 2 s) until that thread has finished
print("door loop finished:", not door.is_alive())
listener.close()

# %% [markdown]
# Three things to notice:
#
# - `target=handler, args=(conn,)` — pass the function itself (no brackets!) and its
#   arguments as a tuple. `target=handler(conn)` would call the handler right here, in
#   the loop, and we would be back to one caller at a time.
# - Not `target=lambda: handler(conn)` either. A lambda looks `conn` up when the new
#   thread *runs* it, not when you write it, and by then the loop may already have
#   accepted the next caller: two threads talk on Dave's line and nobody answers Carol.
#   Most of the time the new thread is quicker and all is well, which makes this bug
#   hard to find. `args=(conn,)` hands the thread this caller's line right now.
# - `daemon=True` means "don't keep Python running just for this thread".
#
# `start_server(handler)` without `one_at_a_time` does exactly this, forever, and also
# records everything in its log. Here it is, with a board of its own:

# %%
many = start_server(echo_lines, "thread per call")
board2 = Switchboard(many)
display(board2)

# %% [markdown]
# Ring its doorbell three times; each caller gets a line at once. The text below is
# the board at that moment:

# %%
callers = [board2.ring() for _ in range(3)]
for number, caller in enumerate(callers, start=1):
    # b"... %d" % number puts the number into bytes (f-strings make str, not bytes)
    caller.sendall(b"caller %d\n" % number)
many.log.wait_for("sent", count=3, timeout=2)
print(board2.text())

# %% [markdown]
# Three lines open at once, and nobody waiting. From a terminal you can call it too,
# while the board's calls are still open (type a line, see it come back, Ctrl+C to
# hang up):

# %%
print(many.nc_command())

# %% [markdown]
# ### The standard library's ready-made version
#
# Python ships a threaded server: `socketserver.ThreadingTCPServer`. You give it a
# class whose `handle()` method talks to one caller (`self.request` is the connection),
# and it runs a thread per call for you.
#
# `serve_forever()` does not return until the server is stopped, so it runs in a
# thread of its own. To stop it, `shutdown()` asks the loop to finish and
# `server_close()` takes the doorbell off the wall. The loop only notices `shutdown()`
# between checks, every `poll_interval` seconds — 0.5 s unless you say otherwise, so
# stopping it takes up to half a second.

# %%
class EchoLines(socketserver.BaseRequestHandler):
    def handle(self):
        echo_lines(self.request)


ready_made = socketserver.ThreadingTCPServer(("127.0.0.1", 0), EchoLines)
ready_made.daemon_threads = True
runner = threading.Thread(target=ready_made.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
runner.start()

with connect(ready_made.server_address) as erin:
    erin.sendall(b"hi, I'm Erin\n")
    print(read_line(erin))

ready_made.shutdown()  # waits for serve_forever to notice: up to poll_interval
ready_made.server_close()
runner.join(timeout=2)
print("standard library server stopped:", not runner.is_alive())

# %% [markdown]
# ## 3. Threads that share: a lost update
#
# Threads share the program's variables. That is handy — a chat room needs one list of
# everybody on the line — and dangerous. Take a visit counter:
#
# ```python
# visits = visits + 1
# ```
#
# That is two steps with a gap between them: **read** `visits` (and add one), then
# **write** the result back. If a second thread reads and writes in that gap, the first
# one then writes a number that is out of date, and one visit is lost.
#
# Usually the timing is lucky and it works; then one day, under load, it doesn't. A
# lesson cannot wait for bad luck, so we *force* the unlucky timing: this cell plays the
# first visitor and does its two steps by hand, and in the gap between them a second
# visitor, in a thread of its own, comes and goes.

# %%
visits = 0


def visit():
    """One visit: read the counter, then write it back plus one."""
    global visits  # the counter outside this function, which every thread shares
    seen = visits  # read
    visits = seen + 1  # write


seen_by_first = visits  # the first visitor (this cell) reads: 0

second = threading.Thread(target=visit)  # the second visitor comes in the gap...
second.start()
second.join(timeout=5)  # ...and we wait until it has finished
print("after the second visit:", visits)

visits = seen_by_first + 1  # the first visitor writes what it read, plus one
print("two visits counted as:", visits)

# %% [markdown]
# Two visits, counted as 1. The second visitor read 0 and wrote 1; then the first,
# still holding the 0 it read before the gap, wrote 1 over it.
#
# A **lock** (`threading.Lock()`) lets only one thread at a time run the code inside
# `with lock:`. Any other thread that reaches it waits until the first one leaves.
# Same two visitors, same gap, but now every visit happens inside `with lock:`, and the
# first visitor holds the lock from its read to its write:

# %%
lock = threading.Lock()
visits = 0


def locked_visit():
    """One visit, read and write inside the lock."""
    global visits
    with lock:
        seen = visits
        visits = seen + 1


with lock:  # the first visitor (this cell) takes the lock...
    seen_by_first = visits  # ...reads: 0
    second = threading.Thread(target=locked_visit)  # the second visitor comes in the gap
    second.start()
    second.join(timeout=0.5)  # give it half a second: it cannot get past `with lock:`
    print("second visitor still waiting at the lock:", second.is_alive())
    visits = seen_by_first + 1  # ...writes 1, and leaves the lock

second.join(timeout=5)  # now the second visitor gets in: it reads 1 and writes 2
print("two visits counted as:", visits)

# %% [markdown]
# The second visitor could not get in during the gap: it waited at `with lock:` until
# the first visit had written its 1, then read 1 and wrote 2. Correct.
#
# Rules of thumb for threaded servers:
#
# - Each call's own things (its socket, what it has read so far) live in the handler's
#   local variables: no sharing, no lock needed.
# - Anything shared (a counter, the list of people in a chat room) is read **and**
#   written inside `with lock:`.
# - Keep the locked part short, and never wait for the network while holding a lock —
#   everyone else would wait for that caller too.

# %% [markdown]
# ## 4. Exercise: `serve_many(listener, handler)`
#
# Write the accept loop of a threaded server.
#
# - `listener` is a listening socket (already bound, already `listen()`ing).
# - For every caller, `listener.accept()` gives you `(conn, address)`. Run
#   `handler(conn)` for that caller **in a new thread**, and go straight back to
#   `accept()`, so a caller who stays on the line never keeps the next one waiting.
# - Whoever owns the listener stops it, and then your `accept()` raises `OSError`.
#   That is your signal: **return quietly** (no exception, no retrying — a closed
#   doorbell never rings again). How the owner wakes an `accept()` that is already
#   waiting differs between systems (on Linux `listener.shutdown(socket.SHUT_RDWR)`
#   does it; macOS refuses `shutdown()` on a listener), so the course's servers and
#   these checks use a small extra "wake-up" socket that works everywhere. Your loop
#   only needs to handle the `OSError`.
#
# The checks give your function a real listener on 127.0.0.1, ring it with up to 20
# callers who stay on the line, check each handler gets its own caller's line, then
# stop the listener and expect `serve_many` to return. To catch the lambda bug
# above every time instead of once in a while, they hold each thread you start until
# you have started the next one.

# %% tags=["exercise"]
def serve_many(listener, handler):
    raise NotImplementedError(
        "Write serve_many: accept callers in a loop and run handler(conn) for each in a new thread, returning when accept() raises OSError"
    )


# %% tags=["check"]
check("serve_many", serve_many)

# %% [markdown]
# ## Recap
#
# - A server that talks to a caller in its accept loop answers **one call at a time**;
#   everyone else waits in the backlog (their `connect()` works, their answers don't come).
# - **A thread per call** keeps the doorbell answered: accept, start a thread with
#   `target=handler, args=(conn,)`, go back to `accept()`.
#   `socketserver.ThreadingTCPServer` is the standard library's version.
# - Threads **share** variables. A read–modify–write from two threads can lose an
#   update; a `threading.Lock` around the read and the write fixes it.
# - `accept()` raising `OSError` once the listener is stopped is the normal way for a
#   server loop to end.
#
# **Next: 06 · A chat room.** Many callers, one shared room: everything each person
# says goes to everyone else, people join and leave (or vanish), and the list of who is
# in the room is exactly the kind of shared state that needs a lock.

# %%
board.close()
board2.close()
for sock in (alice, bob):
    sock.close()
stop_all()
print("every server stopped")
