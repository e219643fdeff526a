# %% [markdown]
# # 06 — The chat room
#
# Everything so far comes together here: a doorbell (the listener), a phone call per
# member (a stream each), lines as messages (lesson 04) and a thread per caller with a
# lock around what they share (lesson 05).
#
# A chat room is a **conference call with an operator**. Every member has their own line
# to the server. When one of them says something, the operator repeats it down every
# *other* line. The operator is the server; the list of who is on which line is the
# **room**.
#
# In this lesson you will:
#
# 1. join the course's chat server with a chat window, and chat with two bots,
# 2. speak its protocol by hand (and from a terminal with `nc`),
# 3. throw bad input at it: control characters, broken UTF-8, an endless line,
# 4. watch what happens when a member **vanishes**, and when one **never reads**,
# 5. write the room yourself: the `ChatRoom` class, then join a room you wrote.

# %%
import tcplessons

print(tcplessons.versions())

from IPython.display import display

from tcplessons import ChatBot, ChatWindow, check, connect, start_bots, start_chat_server, stop_all

# %% [markdown]
# ## 1. The protocol: one line at a time
#
# The chat server speaks plain text lines in UTF-8, so a terminal program like `nc` can
# take part with no special client at all:
#
# - the **first line** a caller sends is their **name**;
# - every later line is a **message**;
# - members receive `* NAME joined`, `NAME: TEXT` and `* NAME left`, one per line.
#   Nobody gets their own messages back.
#
# Why lines? TCP gives us a stream of bytes with no message boundaries (lesson 04). The
# newline is the boundary everyone agrees on, and it is what you type when you press
# Enter in a terminal.
#
# We start the course's chat server. The two options make this lesson's experiments quick;
# section 4 explains them.

# %%
server = start_chat_server(send_timeout=0.2, send_buffer=32 * 1024)
print(server)
print("to join from a terminal, run:", server.nc_command())

# %% [markdown]
# A **chat window** is a real TCP client of that server, shown as a widget: the message
# list, a box to type in and a Send button. Type something and press Send: the window
# sends your line down its own phone line to the server.

# %%
window = ChatWindow(server, "you")
display(window)

# %% [markdown]
# An empty room is dull. Two **bots** join: members that do exactly what the cells tell
# them, so this notebook shows the same conversation every time you run it.
#
# Every cell that expects something to arrive **waits for it** (`wait_for`, with a
# timeout) before printing. Lines travel through other threads; waiting is how we make
# the output come out the same every time, never a `sleep()`.

# %%
ada, bob = start_bots(server, ["ada", "bob"])
window.wait_for("* bob joined")
print(window.text())

# %%
ada.say("hello, room!")
window.wait_for("ada: hello, room!")
print(window.text(last=1))

# %% [markdown]
# Now you talk. `window.send(text)` does what the Send button does. Ada's transcript
# shows everything that reached her line, in order:

# %%
window.send("hi ada, hi bob")
ada.wait_for("you: hi ada, hi bob")
bob.wait_for("you: hi ada, hi bob")
print(ada.text())

# %% [markdown]
# ## 2. Speaking the protocol by hand
#
# No widget needed: a plain socket can join. `sock.makefile("rb")` wraps the socket in a
# file, so `readline()` keeps calling `recv()` until a whole line has arrived (one
# `recv()` is not one line, as lesson 04 showed). Close the file as well as the socket
# (both in the `with`): the line stays open until both are closed.
#
# The server refuses some names with a line starting with `!` and lets you try again:
# an empty name, a name with spaces (other members could not tell where the name ends)
# and a name already taken.

# %%
with connect(server.address) as sock, sock.makefile("rb") as replies:
    print(replies.readline())
    for name in [b"\n", b"ada\n", b"two words\n", b"cy\n"]:
        sock.sendall(name)
        print(name, "->", replies.readline())
    sock.sendall(b"hello from a plain socket\n")
    window.wait_for("cy: hello from a plain socket")
window.wait_for("* cy left")
print(window.text(last=3))

# %% [markdown]
# From a terminal it is the same conversation. Run the `nc` command printed at the top of
# this lesson, type a name and press Enter, then type messages. Your messages appear in
# the chat window above, and what you send from the window appears in your terminal.

# %% [markdown]
# ## 3. Bad input
#
# A server must assume that callers send anything at all. Three kinds of trouble:
#
# - **control characters**: `"\x1b[2J"` clears the screen of everyone whose terminal
#   shows it, `"\x07"` rings their bell, `"\x00"` hides what follows in some programs.
#   The server removes them before anyone sees the line;
# - **invalid UTF-8**: bytes like `b"\xff"` are not text at all. The server decodes with
#   `errors="replace"`, so they become `\ufffd` (the replacement character `�`) instead of
#   crashing the caller's thread with `UnicodeDecodeError`;
# - **an endless line**: someone sends megabytes with no newline. The server would have to
#   keep it all while waiting for the end of the line. It keeps at most 64 KiB, then
#   replies with an error line and hangs up on that caller.

# %%
with connect(server.address) as sock, sock.makefile("rb") as replies:
    sock.sendall(b"mallory\n")
    sock.sendall(b"\x1b[2J\x07surprise!\x00 \xff\xfe\n")
    window.wait_for("mallory: surprise! \ufffd\ufffd")
    print(repr(window.lines()[-1]))

    sock.sendall(b"x" * (64 * 1024 + 1))  # one byte over the limit, and no newline
    for line in replies:  # bounded: the server hangs up after its error line
        if line.startswith(b"!"):
            print(line)
    print("the server hung up:", replies.readline() == b"")
window.wait_for("* mallory left")

# %% [markdown]
# ## 4. Members who vanish, and members who never read
#
# Members don't always say goodbye. When a program crashes, its operating system hangs
# up for it. A closed laptop lid or a lost Wi-Fi connection sends nothing at all: the
# server hears nothing, and finds out only minutes later, when a send to that member
# times out. Here we show the abrupt case a notebook can show at once: Bob's line is
# **reset**, his side sends an RST instead of the polite FIN of a hang-up. The server's
# thread reading Bob's line gets `ConnectionResetError`; the room removes Bob and tells
# the others. Everyone else keeps chatting.

# %%
bob.vanish()
window.wait_for("* bob left")
ada.say("is bob gone?")
window.wait_for("ada: is bob gone?")
print(window.text(last=2))
print(server.log.wait_for("error", line=3))

# %% [markdown]
# The sneakier problem is a member who stays connected but **never reads**. Whatever the
# server sends piles up: first in the member's receive buffer, then in the server's send
# buffer for that line. When both are full, `sendall()` **blocks**, and without care the
# whole room stops, because the thread that is sending Ada's message to Sleepy is stuck
# and nobody after Sleepy gets anything.
#
# The course's room never waits for one member. It offers each line to every member
# without blocking (`MSG_DONTWAIT`); whatever a full buffer cannot take waits in that
# member's own **outbox**, a queue of lines sent by a writer thread of its own. A member
# whose outbox grows past 256 KiB, or whose send makes no progress for `send_timeout`
# seconds, is dropped and announced as left. (This lesson's small `send_buffer` makes
# the buffers fill quickly.)
#
# Sleepy joins and never reads; Ada sends 30 kB messages until the room gives up on
# Sleepy. The window gets every message at once all along:

# %%
sleepy = ChatBot(server, "sleepy", reads=False, receive_buffer=4096)
window.wait_for("* sleepy joined")

big = "la" * 15_000
for count in range(1, 101):  # bounded: the buffers are full after a handful
    ada.say(big)
    window.wait_for(f"ada: {big}", count=count)
    if window.has("* sleepy left"):
        break
window.wait_for("* sleepy left")
ada.say("still here, and still fast")
window.wait_for("ada: still here, and still fast")
print("sleepy was dropped:", window.has("* sleepy left"))
print(window.text(last=1))
sleepy.close()

# %% [markdown]
# ## 5. Exercise: write the room
#
# The server reads each member's lines in a thread of its own (lesson 05) and calls the
# **room** to do the talking. Write `ChatRoom`, a class with three methods:
#
# - `join(name, conn)`: add the member (`conn` is their socket), and send
#   `* NAME joined\n` to every **other** member;
# - `leave(name)`: remove the member, and send `* NAME left\n` to the rest. Do **not**
#   close `conn`: the server that handed it to you closes it when the caller hangs up.
#   If the member is not in the room any more, do nothing;
# - `broadcast(sender, text)`: send `SENDER: TEXT\n` to every member **except** the
#   sender.
#
# And the three rules that make it a real server:
#
# 1. send text as UTF-8 with `sendall()` (`send()` may send only part);
# 2. if sending to a member fails (`OSError`: they vanished), remove that member and
#    announce `* NAME left` to the others; no exception may escape to the caller;
# 3. many threads call these methods at once: keep the members in a dict guarded by a
#    `threading.Lock`, and send to a **copy** of the members taken under the lock
#    (`list(self.members.items())`). Looping over the dict itself while another thread
#    joins raises `RuntimeError: dictionary changed size during iteration`.
#    Sending outside the room's lock keeps everyone fast, but now two threads may send
#    to the **same** member at once. A busy kernel takes a long line in pieces, and
#    `sendall()` keeps going until every piece is sent: two of them running at once on
#    one socket interleave their pieces, and the member reads half of Ada's line, then
#    a piece of Cy's. So give every member **a lock of its own** and hold it around that
#    member's `sendall()` (for example, store `(conn, threading.Lock())` for each name).
#
# The checks give your room real sockets, make one vanish, make the kernel accept only
# a few bytes per `send()`, and call your methods from several threads at once — also
# two broadcasts to the same member at the same moment.

# Spot the bug first. This room is what most of us write on the first try. Three members
# join (`socket.socketpair()` gives the two ends of a connected pair, like the two ends of
# a call; on Linux and macOS they are local sockets, not TCP, on Windows they are TCP:
# see the note below), Bob vanishes, and Ada speaks twice:

# %% tags=["raises-exception"]
import socket


class FirstTryRoom:
    def __init__(self):
        self.members = {}

    def join(self, name, conn):
        self.members[name] = conn

    def broadcast(self, sender, text):
        for name, conn in self.members.items():
            if name != sender:
                conn.sendall(f"{sender}: {text}\n".encode())


first_try = FirstTryRoom()
far_ends = {}
for name in ["ada", "bob", "cy"]:
    ours, theirs = socket.socketpair()
    first_try.join(name, ours)
    far_ends[name] = theirs
far_ends["bob"].close()  # Bob vanishes
first_try.broadcast("ada", "anyone there?")
first_try.broadcast("ada", "hello?")  # with TCP the failure may come one send late

# %% [markdown]
# The exception escaped from `broadcast()` at Bob, so Cy, after Bob in the loop, never
# heard Ada. In a server it would land in *Ada's* thread, the one reading her lines: one
# vanished member, and the person talking pays for it. Rule 2 above is the fix — in
# `join()` and `leave()` too, which send to everyone just like `broadcast()`.
#
# (With TCP, the failure often shows up only on the *next* send: the first `sendall()`
# after the other side closed usually succeeds, the other side answers it with a reset,
# and the send after that fails. That is why the room must expect a failure on any send.)

# %%
for conn in list(first_try.members.values()) + list(far_ends.values()):
    conn.close()

# %% tags=["exercise"]
class ChatRoom:
    def join(self, name, conn):
        raise NotImplementedError("Write ChatRoom: join, leave and broadcast send lines to the other members")

    def leave(self, name):
        raise NotImplementedError("Write ChatRoom: join, leave and broadcast send lines to the other members")

    def broadcast(self, sender, text):
        raise NotImplementedError("Write ChatRoom: join, leave and broadcast send lines to the other members")


# %% tags=["check"]
check("ChatRoom", ChatRoom)

# %% [markdown]
# ## 6. Join a room you wrote
#
# When every check passes, this cell starts a chat server running **your** `ChatRoom`,
# joins it with a window and a bot, and prints the `nc` command so you can join it from
# a terminal too.
#
# `start_chat_server` gives every member's socket a **send deadline** (1 second by
# default, set with the socket option `SO_SNDTIMEO`): a `sendall()` to a member who never
# reads fails with an `OSError` instead of waiting forever, and your rule 2 drops that
# member. Your room is simpler than the course's: until the deadline passes, the thread
# that is sending waits, and so does whoever talks next.

# %%
if check("ChatRoom", ChatRoom).passed:
    mine = start_chat_server(ChatRoom(), name="my room")
    my_window = ChatWindow(mine, "you")
    display(my_window)
    cy = ChatBot(mine, "cy")
    cy.say("this room runs on your code!")
    my_window.wait_for("cy: this room runs on your code!")
    print(my_window.text())
    print("join it from a terminal:", mine.nc_command())
else:
    print("ChatRoom does not pass its checks yet: come back to this cell when it does.")

# %% [markdown]
# ## Recap
#
# - A chat server is one **listener** and one **stream** per member, plus a **room**: the
#   shared list of who is on which line, guarded by a lock.
# - A line-based UTF-8 protocol lets `nc` and telnet join; the newline is the message
#   boundary on a byte stream.
# - Never trust input: remove control characters, decode with `errors="replace"`, and put
#   a limit on how much you keep while waiting for a newline.
# - Two threads must never send to the same member at once: a lock per member keeps
#   each line whole.
# - One member must never hold up the others for long: catch the failed send of a
#   vanished member, and give every send a deadline so a member who never reads is
#   dropped (the course's room also keeps an outbox per member, so nobody waits at all).
#
# **Next:** a thread per member works well for a room of a few hundred. Lesson 07
# measures it against event loops (`selectors`, `asyncio`), which serve thousands of
# lines from one thread.
#
# Hang up every line and stop the servers:

# %%
window.close()
ada.close()
stop_all()
print(tcplessons.running_servers())
