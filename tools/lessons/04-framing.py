# %% [markdown]
# # 04 · Framing: finding the messages in a stream
#
# A phone call carries sound, not sentences. You know where a sentence ends because of
# a pause or a tone of voice — an agreement between speaker and listener, not something
# the phone line does for you.
#
# TCP is the same. It delivers **bytes**, reliably and in order, but it does not keep
# the boundaries between your `sendall()` calls. Three writes may arrive as one read;
# one write may arrive as three reads. If your program deals in *messages* (a chat line,
# a command, a reply), both sides must agree on a rule that marks where each message
# ends. That rule is called **framing**.
#
# In this lesson you will watch a stream lose its boundaries, then meet the two rules
# almost every **protocol** (the rules two programs agree on for talking) uses — a
# delimiter (one message per line) and a length prefix — and the two traps around them:
# leftover bytes and characters split across reads.
# You write a `LineReader`, `send_message` and `recv_message`.

# %%
import tcplessons
print(tcplessons.versions())  # the versions you run: paste this line if you ask for help
tcplessons.explain_errors()  # adds a line under socket errors: what they mean, which lesson

import codecs
import socket
import struct

from IPython.display import display

from tcplessons import FrameDecoder, LineSplitter, StreamView, check, encode_frame, wait_for_bytes

# %% [markdown]
# ## One phone call, both ends in this notebook
#
# We need both ends of one TCP connection: a doorbell, a caller (`client`), and the
# line `accept()` hands us for that caller (`server_side`, the server's end of the
# call; lesson 01). Then the doorbell can go: the call stays up.

# %%
doorbell = socket.create_server(("127.0.0.1", 0))
client = socket.create_connection(doorbell.getsockname(), timeout=5)
server_side, _ = doorbell.accept()
server_side.settimeout(5)
doorbell.close()
print("connected:", client.getpeername() == server_side.getsockname())

# %% [markdown]
# ## Three writes, one read
#
# A `StreamView` does our `sendall()` and `recv()` calls and notes each one: writes on
# the left, reads on the right. The client writes three times. We wait until all 13
# bytes have arrived on the server's side (`wait_for_bytes` waits without reading),
# then the server reads once. `display(view.snapshot())` shows a picture of the view
# as it is at the end of the cell.

# %%
view = StreamView("client writes", "server reads")
view.write(client, b"one ")
view.write(client, b"two ")
view.write(client, b"three")
wait_for_bytes(server_side, 13)
view.read(server_side, 1024)
display(view.snapshot())

# %% [markdown]
# One read returned all three writes, glued together. Nothing was lost and nothing was
# reordered — but the boundaries are gone. Was that one message or three? The bytes
# cannot tell you.
#
# ## One write, three reads
#
# The opposite happens too: `recv(n)` returns *at most* `n` bytes, and on a real network
# often fewer, whatever was sent in one go. Here we ask for 5 bytes at a time:

# %%
view = StreamView("client writes", "server reads")
view.write(client, b"hello, world")
wait_for_bytes(server_side, 12)
for _ in range(3):
    view.read(server_side, 5)
display(view.snapshot())

# %% [markdown]
# So: **one `recv()` is not one message**, in either direction. Code that assumes it
# works on your laptop (small messages usually arrive whole) and breaks on a busy
# network. Let's agree on a rule instead.
#
# ## Rule 1: one message per line
#
# The simplest rule: every message ends with a newline, `"\n"`. The reader collects
# bytes, and every time it finds a `"\n"`, everything before it is one complete line.
# Whatever comes after the last `"\n"` is the start of the next line: **leftover** bytes
# that must be kept for later, not thrown away.
#
# Chat protocols, email (SMTP), and most things you can type into `nc` work this way.
# Watch the leftovers as the pieces come in. The variable `pending` holds the bytes
# received but not yet part of a complete line (our program's own variable, not the
# operating system's buffer of lesson 02):

# %%
pending = b""
for piece in [b"hel", b"lo\nwor", b"ld\nsee you", b" later\n"]:
    pending += piece
    while b"\n" in pending:
        line, pending = pending.split(b"\n", 1)  # before the first "\n", and after it
        print("  complete line:", line)
    # {piece!r:14}: the bytes as Python writes them (b'...'), padded to 14 characters
    # so the columns line up
    print(f"after {piece!r:14} left over: {pending!r}")

# %% [markdown]
# Two details from the real world:
#
# - `telnet` (an older terminal client, like `nc`) and many Windows programs end lines
#   with `"\r\n"` (a *carriage return*, `"\r"`, then the newline), not `"\n"` alone.
#   Split on `"\n"` and you get lines with a stray `"\r"` at the end — remove it.
# - When the caller hangs up (`recv()` returns `b""`), the leftover is their last,
#   unfinished line. Whether to keep it is up to the protocol; in this course we do.
#
# ## Characters split across reads
#
# Lines are text, and text is bytes in UTF-8. `é` is 2 bytes, `日` is 3, `🙂` is 4. A
# read can end in the middle of a character — as lesson 03 showed, that crashes
# `.decode()`:

# %%
data = "日本".encode("utf-8")
first_read, second_read = data[:4], data[4:]
print(first_read, second_read)

# %% tags=["raises-exception"]
first_read.decode("utf-8")

# %% [markdown]
# Two ways out. Either split the *bytes* into whole lines first and decode each whole
# line (a `"\n"` byte never appears inside a multi-byte character, so lines always
# contain whole characters), or use an **incremental decoder**: it decodes what it can
# and keeps the first half of a character until the rest arrives.

# %%
# getincrementaldecoder("utf-8") gives a decoder *class*; the second () makes one decoder
decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
print(repr(decoder.decode(first_read)))  # '日' — and it keeps the half of '本'
print(repr(decoder.decode(second_read)))  # '本'
print(repr(decoder.decode(b"caf\xe9 \xff!")))  # bytes that are not UTF-8 become '\ufffd'

# %% [markdown]
# `errors="replace"` matters for a server: a caller who sends bytes that are not UTF-8
# (by mistake, or on purpose) gets `"\ufffd"` (`�`) characters instead of crashing
# the server.
#
# ## Framing without sockets ("sans-IO")
#
# Notice that the line-splitting code above never touched a socket: bytes went in,
# lines came out. That is worth keeping. Written that way, the framing rule can be
# tested by feeding it bytes in *every* possible split — 1 byte at a time, 5 at a time,
# all at once — in a fraction of a second, without a network, without servers running
# in the background, and without waiting. The socket part shrinks to a two-line loop: `recv()`, feed.
#
# This style is called **sans-IO** ("without input/output"). Your `LineReader` is
# written that way.
#
# ## Exercise 1: `LineReader`
#
# Write a class whose `feed(data)` method takes the next piece of bytes from the stream
# and returns the list of complete lines that piece finishes, in order:
#
# - decoded as UTF-8, with bytes that are not UTF-8 turned into `"\ufffd"`;
# - without their line ending (`"\n"`, or `"\r\n"` as telnet sends);
# - only `"\n"` ends a line: `str.splitlines()` is tempting, but it also splits at
#   characters such as `"\x0c"` (form feed) and `"\u2028"` that may sit inside a line;
# - an unfinished line — including a character split across feeds — waits for the next
#   call;
# - `feed(b"")` means the caller hung up: return the unfinished text as a last line if
#   there is any, otherwise `[]`.
#
# For example `r = LineReader()`, then `r.feed(b"hel")` returns `[]`,
# `r.feed(b"lo\nwor")` returns `["hello"]` and `r.feed(b"")` returns `["wor"]`.

# %% tags=["exercise"]
class LineReader:
    def feed(self, data):
        raise NotImplementedError("Write LineReader.feed(data): return the complete lines data finishes, decoded, without line endings")


# %% tags=["check"]
check("LineReader", LineReader)

# %% [markdown]
# The course has its own version, `tcplessons.LineSplitter`; the chat server of lesson
# 06 splits its members' lines with it. It adds one thing a server needs: a maximum
# line length, so a caller who sends ten megabytes without a newline cannot fill the
# server's memory.

# %%
stream = "héllo\r\nwörld\n日本".encode("utf-8")
for size in (1, 5, 4096):
    lines = LineSplitter(max_line=1000)
    found = []
    for start in range(0, len(stream), size):
        found += lines.feed(stream[start : start + size])
    found += lines.feed(b"")  # the caller hung up
    print(f"pieces of {size:4}:", found)

# %% [markdown]
# ## Rule 2: a length prefix
#
# Lines are easy to read and to type, but a message cannot contain a newline, and the
# reader must look at every byte to find the end. Many binary protocols say instead
# *how long* the message is, up front: a fixed-size header with the length, then
# exactly that many bytes.
#
# Our rule: **4 bytes of length, big-endian, then the message's UTF-8 bytes**.
# "Big-endian" (also called network byte order) means the most significant byte comes
# first, the way we write numbers. `struct.pack(">I", n)` builds it (`>` big-endian,
# `I` a 4-byte unsigned integer); `n.to_bytes(4, "big")` does the same.

# %%
text = "héllo"
payload = text.encode("utf-8")
header = struct.pack(">I", len(payload))
print("characters:", len(text), " bytes:", len(payload))
print("on the wire:", header + payload)

# %% [markdown]
# The length counts **bytes**, because bytes are what travel: `"héllo"` is 5 characters
# but 6 bytes. Count characters and the reader stops one byte early — and reads that
# byte as the start of the next message.
#
# The byte order matters as much. Here is what a reader that expects big-endian makes
# of a little-endian header (least significant byte first, `"<I"`) for the same 6
# bytes:

# %%
little = struct.pack("<I", len(payload))
print("little-endian header:", little)
print("read as big-endian:", struct.unpack(">I", little)[0], "bytes to wait for")

# %% [markdown]
# The reader would wait for 100 MB that never come. Both sides must agree on the rule,
# down to the byte order.
#
# ## Leftovers with length prefixes: reading past the end
#
# The reader must read exactly 4 bytes, then exactly N, and not one byte more: what
# follows belongs to the next message. Here is a "before" version that reads a big
# chunk and slices the message out of it. Spot the bug:

# %%
def greedy_recv_message(sock):
    """Read one length-prefixed message (spot the bug)."""
    data = sock.recv(1024)
    (length,) = struct.unpack(">I", data[:4])
    return data[4 : 4 + length].decode("utf-8")


two_messages = b"\x00\x00\x00\x05first" + b"\x00\x00\x00\x06second"
client.sendall(two_messages)
wait_for_bytes(server_side, len(two_messages))
print(greedy_recv_message(server_side))

# %% [markdown]
# The first message is right. But `recv(1024)` also swallowed the whole second message,
# and the slice threw it away. The next call waits for a message that already came and
# went (we give it 0.2 s):

# %% tags=["raises-exception"]
server_side.settimeout(0.2)
greedy_recv_message(server_side)

# %%
server_side.settimeout(5)

# %% [markdown]
# ## Exercise 2: `send_message(sock, text)` and `recv_message(sock)`
#
# A message on the wire is a 4-byte big-endian unsigned length N, followed by N bytes
# of UTF-8 text.
#
# - `send_message(sock, text)` sends one message.
# - `recv_message(sock)` reads exactly one message and returns its text. If the caller
#   hangs up (`recv()` returns `b""`) before a whole message has arrived, it raises
#   `EOFError`.
#
# Both must follow the wire format exactly: a `send_message` and a `recv_message` that
# make the same mistake (say, little-endian) understand each other, but no other
# program understands them. So the checks try each function on its own against
# messages built by the rule above. They send in pieces of 1, 5 and 4096 bytes, a
# megabyte, two messages back to back, and use sockets whose `send()` and `recv()`
# move only a few bytes at a time.
#
# A helper such as `recv_exactly(sock, n)` from lesson 02 is welcome: copy your
# `recv_exactly` from lesson 02 into the `recv_message` cell, above `recv_message`
# (each notebook has its own Python, so lesson 02's definition does not exist here).

# %% tags=["exercise"]
def send_message(sock, text):
    raise NotImplementedError("Write send_message(sock, text): send a 4-byte big-endian length, then the text's UTF-8 bytes")


# %% tags=["check"]
check("send_message", send_message)

# %% tags=["exercise"]
def recv_message(sock):
    raise NotImplementedError("Write recv_message(sock): read a 4-byte big-endian length N, then exactly N bytes; return the text, or raise EOFError if the caller hangs up first")


# %% tags=["check"]
check("recv_message", recv_message)

# %% [markdown]
# The course's own length-prefix tools are `tcplessons.encode_frame(text)` (the bytes of
# one message) and `tcplessons.FrameDecoder`, the sans-IO reader: feed it bytes in any
# pieces, and it returns the messages they complete, keeping the leftovers for you.

# %%
wire = encode_frame("first") + encode_frame("second, 二番目")
frames = FrameDecoder()
print(frames.feed(wire[:7]))  # the length and 3 bytes of "first": nothing complete yet
print(frames.feed(wire[7:]))  # the rest: both messages

# %% [markdown]
# ## Recap
#
# - TCP is a stream of bytes. It keeps their order, not the boundaries between writes:
#   one `recv()` is not one message.
# - **Framing** is the rule both sides agree on to find the messages: a delimiter
#   (lines ending in `"\n"`, maybe `"\r\n"`) or a length prefix (4 bytes big-endian,
#   then the message).
# - Keep the **leftovers**: bytes after the end of a message are the start of the next.
# - Decode whole messages, or decode with an **incremental decoder**: a character can be
#   split across reads. `errors="replace"` keeps bad bytes from crashing a server.
# - Write framing **sans-IO** — bytes in, messages out — and test it with every split.
#
# **Next**, lesson 05: many callers at once, a thread per call.

# %%
client.close()
server_side.close()
