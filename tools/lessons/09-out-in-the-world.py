# %% [markdown]
# # 09 · Out in the world: names, IPv6, timeouts, and what TCP does underneath
#
# Every lesson so far called `127.0.0.1`, where nothing is slow and nothing is missing.
# Out in the world, programs call each other by **name** (`example.com`), a name can
# lead to several addresses, some of them in the newer **IPv6** format, a computer may
# never answer at all, and every failure shows up as an error with a cryptic text.
#
# This lesson takes that step off the beaten track, but stays on your own computer so
# it runs anywhere:
#
# 1. turn a name into addresses with `getaddrinfo`, and see IPv6's `::1`;
# 2. try addresses in turn, as `create_connection` does when one refuses;
# 3. put time limits on waiting: **timeouts**, blocking and non-blocking sockets;
# 4. watch the operating system's view of one call, from the doorbell to the last
#    goodbye, and a call that is cut instead of ended;
# 5. meet every error of the course in one table, each one reproduced live;
# 6. write `connect_first(candidates, timeout)`.
#
# The first cell also turns on the course's error explanations: under the traceback of
# a socket error, one extra line says what it means and which lesson explains it.
# `tcplessons.explain()` says more about the last error, and
# `tcplessons.explain_errors(False)` switches the extra line off.

# %%
import tcplessons

print(tcplessons.versions())
tcplessons.explain_errors()  # adds a line under socket errors: what they mean, which lesson

import os
import socket
import sys
import time

from tcplessons import check, closed_port, has_ipv6_loopback, silent_listener, start_server
from tcplessons import reset_close, start_echo_server, stop_all, tcp_state, wait_for_state
from tcplessons.glossary import entry_for

# %% [markdown]
# ## 1. Names and addresses: `getaddrinfo`
#
# A **host name** such as `localhost` or `example.com` is for people. To call it, a
# program first asks the operating system which **addresses** the name stands for. The
# question is `socket.getaddrinfo(host, port)`. Each answer is a tuple of five items:
#
# - the **family**: `AF_INET` for IPv4 addresses like `127.0.0.1`, `AF_INET6` for IPv6
#   addresses like `::1`;
# - the **type** and **protocol**: `SOCK_STREAM` and TCP for us (we ask only for those);
# - a canonical name (usually empty);
# - the **socket address** to give `connect()`: `(host, port)` for IPv4, and
#   `(host, port, flowinfo, scope_id)` for IPv6. The last two numbers matter only for
#   special IPv6 addresses; for ours they are `0, 0`.
#
# **IPv6** is the newer address format, with room for far more computers: eight groups
# of hexadecimal digits, where `::` stands for a run of zeros. `::1` is IPv6's
# loopback, "this computer", like `127.0.0.1` in IPv4.
#
# First a server to call. `start_echo_server()` listens on `127.0.0.1` only, IPv4:

# %%
server = start_echo_server()
port = server.address[1]
for family, kind, proto, canonical, address in socket.getaddrinfo(
    "127.0.0.1", port, type=socket.SOCK_STREAM
):
    print(family.name, kind.name, address)
for family, kind, proto, canonical, address in socket.getaddrinfo(
    "::1", port, type=socket.SOCK_STREAM
):
    print(family.name, kind.name, address)

# %% [markdown]
# An address written as numbers gives itself back. A name is looked up: in the file
# `/etc/hosts` (on Windows `C:\Windows\System32\drivers\etc\hosts`), and then in the
# **DNS**, the world's phone book of names. What `localhost` gives depends on your
# computer: many list `::1` first and `127.0.0.1` second, some only `127.0.0.1`. This
# cell's output is your computer's answer, so it may differ from the one stored here:

# %% tags=["nbval-ignore-output"]
for family, kind, proto, canonical, address in socket.getaddrinfo(
    "localhost", port, type=socket.SOCK_STREAM
):
    print(family.name, address)
print("this computer has the IPv6 loopback ::1:", has_ipv6_loopback())

# %% [markdown]
# A name that cannot be looked up raises `socket.gaierror` ("get address info error").
# To get one without asking the DNS of the whole world, we tell `getaddrinfo` that the
# host is written as numbers (`AI_NUMERICHOST`), which a name is not, so nothing is
# looked up at all. We catch the error and ask the course what it means:
# `tcplessons.explain(exc)` gives its class, its text on Linux, macOS and Windows, and
# the lesson that explains it. (`tcplessons.explain()` with nothing in the brackets
# explains the last error a cell raised; under the traceback of such an error the
# course adds one short line of it, as section 3 shows.)

# %%
try:
    socket.getaddrinfo("no-such-host", port, flags=socket.AI_NUMERICHOST)
except socket.gaierror as exc:
    lookup_error = exc
tcplessons.explain(lookup_error)

# %% [markdown]
# ## 2. Trying the addresses in turn
#
# Our server listens on `127.0.0.1` only. Many computers' `localhost` lists `::1`
# first and `127.0.0.1` second; the one this lesson's stored outputs were made on lists
# only `127.0.0.1` (see above), so to be sure to see what happens we write such a list
# by hand, `::1` first, and try its addresses in turn. Nobody listens on `::1` at this
# port: the call is **refused**, the other computer answers the first packet of the
# call with a **reset** (RST), "nobody here". Then the next address answers.
#
# (Where your computer has no `::1` at all, that call cannot even start; the cell says
# so, and the stored output shows the computer it was made on, which has one.)

# %%
like_localhost = [("::1", port, 0, 0), ("127.0.0.1", port)]
for address in like_localhost:
    try:
        phone = socket.create_connection(address[:2], timeout=5)
    except ConnectionRefusedError as exc:
        print(address[0], "refused:", exc)
        continue
    except OSError as exc:
        print(address[0], "is missing on this computer:", type(exc).__name__, exc)
        continue
    with phone:
        print(address[0], "answered; talking to", phone.getpeername())
    break

# %% [markdown]
# `socket.create_connection((name, port))` does exactly this for you: it asks
# `getaddrinfo` for the name's addresses and tries them **in order**, each one until it
# connects or fails, and returns the first socket that connects. Only when every
# address has failed does it raise: the last error, or with `all_errors=True` all of
# them together. So calling `localhost` works here whatever order your computer lists
# its addresses in (and tries `::1` first where it lists it first):

# %%
with socket.create_connection(("localhost", port), timeout=5) as phone:
    print("connected to", phone.getpeername()[0])

# %% [markdown]
# **Why Windows takes about two seconds to refuse.** On Linux and macOS a refusal
# comes back at once: one reset, and `connect()` raises. Windows does not believe the
# first reset: it sends the opening packet of the call again, twice by default, and
# raises `ConnectionRefusedError` only when those are refused too. So on Windows,
# every address that refuses costs about two seconds, even on loopback, and a name
# that lists `::1` first makes every call to a server that listens only on
# `127.0.0.1` two seconds slow. There are two fixes. On the server's side: listen on
# both addresses (`socket.create_server(("", port), family=socket.AF_INET6,
# dualstack_ipv6=True)` takes IPv6 and IPv4 calls). On the client's side: call the
# address you know the server listens on (`127.0.0.1`) instead of the name.

# %% [markdown]
# ## 3. Timeouts
#
# A socket is **blocking** unless told otherwise: `connect()`, `recv()` and `accept()`
# wait as long as it takes. "As long as it takes" can be forever: a computer that is
# switched off never answers, and a server that never sends leaves `recv()` waiting.
# Three modes choose how long a call may wait:
#
# | mode | set with | a call that cannot finish yet | `gettimeout()` |
# |---|---|---|---|
# | blocking | `settimeout(None)` (the default) | waits, without limit | `None` |
# | timeout | `settimeout(2.5)` | waits up to 2.5 s, then raises `TimeoutError` | `2.5` |
# | non-blocking | `setblocking(False)` | raises `BlockingIOError` at once | `0.0` |

# %%
phone = socket.create_connection(server.address)
print("blocking:", phone.gettimeout())
phone.settimeout(0.3)
print("timeout:", phone.gettimeout())
phone.setblocking(False)
print("non-blocking:", phone.gettimeout())

# %% [markdown]
# ### A `recv()` that times out
#
# The echo server sends only what it gets, so with nothing sent, nothing comes back:

# %% tags=["raises-exception"]
phone.settimeout(0.3)
phone.recv(1024)

# %% [markdown]
# A timeout does **not** end the call: the line is still there, and the next call can
# succeed. Only the waiting stopped.

# %%
phone.settimeout(5)
phone.sendall(b"still there?")
print(phone.recv(1024))

# %% [markdown]
# A non-blocking socket never waits: when no data is ready, `recv()` raises
# `BlockingIOError` at once. That is how one thread serves many lines: an **event
# loop** is one loop that asks the operating system which of its many sockets are
# ready (`select()`), and calls `recv()` only on those, so it never waits on one line
# while another has something to say. Lesson 07 builds one.

# %% tags=["raises-exception"]
phone.setblocking(False)
phone.recv(1024)

# %%
phone.close()

# %% [markdown]
# ### A `connect()` that times out
#
# To see a call nobody answers, we need a silent address. On loopback we make one: a
# listener that allows one waiting call (`listen(0)`), one call that fills its queue,
# and no `accept()` ever. Linux and macOS then **ignore** every new call's opening
# packet (its SYN: "may I call?"); the caller hears nothing, not even a refusal, and
# would keep asking for a minute or two. `silent_listener()` builds exactly that, and
# takes it down afterwards. (Windows refuses calls to a full queue instead, but only
# after about two seconds, so with this half-second timeout it shows the same
# `TimeoutError`; there the address is slow to refuse, not silent.)

# %% tags=["raises-exception"]
with silent_listener() as silent:
    socket.create_connection(silent.address, timeout=0.5)

# %% [markdown]
# ### `TimeoutError` carries no errno
#
# Most socket errors come from the operating system and carry its error number,
# `errno` (111 is "connection refused" on Linux). The `TimeoutError` of a timeout you
# set is raised by Python itself, so its `errno` is `None`, and its text is just
# "timed out". Handle it by its class, not by a number. (The operating system has a
# timeout of its own, `ETIMEDOUT`, when it gives up after minutes of retrying; that
# one is a `TimeoutError` too, but with an `errno`.)

# %%
try:
    with silent_listener() as silent:
        socket.create_connection(silent.address, timeout=0.5)
except OSError as exc:  # TimeoutError; caught as OSError so no system stops the notebook
    print("class:", type(exc).__name__, "| errno:", exc.errno, "| text:", exc)
    print("an OSError too:", isinstance(exc, OSError))

try:
    with closed_port() as nobody:
        socket.create_connection(nobody, timeout=5)  # above Windows' two-second refusal
except ConnectionRefusedError as exc:
    print("class:", type(exc).__name__, "| errno is a number:", isinstance(exc.errno, int))

# %% [markdown]
# ### A deadline for the whole exchange
#
# A timeout limits **each call**. A slow sender can keep every single `recv()` under
# the limit and still take forever in total. This server sends a 50-byte answer one
# byte at a time, a byte every 40 ms (two seconds in all):

# %%
def slow_sender(conn):
    for byte in b"a slow answer, one byte at a time, two seconds...\n":
        conn.sendall(bytes([byte]))
        time.sleep(0.04)  # the slowness is the point of this server


slow = start_server(slow_sender)

# %% [markdown]
# With a timeout of five seconds per call, no `recv()` ever waits that long, so the
# whole answer arrives, two seconds after we asked:

# %%
with socket.create_connection(slow.address, timeout=5.0) as phone:
    started, answer = time.monotonic(), b""
    while not answer.endswith(b"\n"):
        answer += phone.recv(1024)
    print(len(answer), "bytes; took more than one second:", time.monotonic() - started > 1.0)

# %% [markdown]
# When the whole answer must come within one second, keep a **deadline** (a moment on
# a clock that only goes forward, `time.monotonic()`) and give each call only the time
# that is left:

# %%
with socket.create_connection(slow.address, timeout=5.0) as phone:
    deadline, answer = time.monotonic() + 1.0, b""
    try:
        while not answer.endswith(b"\n"):
            phone.settimeout(max(deadline - time.monotonic(), 0.001))
            answer += phone.recv(1024)
    except TimeoutError:
        print("gave up at the deadline, before the end of the answer:", b"\n" not in answer)

slow.stop()

# %% [markdown]
# ## 4. What TCP does underneath
#
# For every call, TCP keeps a small record with a **state**, and the operating system
# lists them all (the `ss` and `netstat` commands show that list). The course's
# `tcp_state(sock)` reads one socket's state from it, with the `psutil` library. The
# states we will meet, and the packets that move a call between them:
#
# - `LISTEN`: a doorbell, waiting for calls;
# - the **handshake**: the caller sends SYN ("may I call?"), the listener answers
#   SYN-ACK ("yes"), the caller ACK ("here I am"); then both ends are `ESTABLISHED`;
# - **FIN**: "I have finished talking", sent by `shutdown(SHUT_WR)` or `close()`. The
#   side that sent it waits in `FIN_WAIT2` for the other to finish; the other side
#   sits in `CLOSE_WAIT` until its program closes too;
# - `TIME_WAIT`: the record the side that hung up first keeps for a while after the
#   call (from 30 seconds to a few minutes, by system), so stray late packets of this
#   call cannot land in a new one;
# - **RST**, a reset: "this call is over, now", with no goodbye;
# - `CLOSED`: TCP's name for "no connection"; `tcp_state()` says it when the system no
#   longer lists the call.

# %%
doorbell = socket.create_server(("127.0.0.1", 0))
print("doorbell:", tcp_state(doorbell))

caller = socket.create_connection(doorbell.getsockname(), timeout=5)
answerer, _ = doorbell.accept()
answerer.settimeout(5)
print("caller:", tcp_state(caller), "| answerer:", tcp_state(answerer))

# %% [markdown]
# The caller finishes talking: `shutdown(SHUT_WR)` sends a FIN. The answerer's `recv()`
# returns `b""`, the polite hang-up of lesson 02. The caller waits for the other side
# to finish (its state changes once the answerer's acknowledgement arrives, a moment
# later, so we wait for it):

# %%
caller.shutdown(socket.SHUT_WR)
print("answerer reads:", answerer.recv(1024))
print("caller:", wait_for_state(caller, "FIN_WAIT2"), "| answerer:", tcp_state(answerer))

# %% [markdown]
# The answerer may still talk in `CLOSE_WAIT`, and then hangs up too. Now the caller's
# `recv()` returns `b""`, and the caller, who hung up first, keeps the `TIME_WAIT`
# record. (The answerer's side is gone once the caller has acknowledged its FIN; a
# closed socket can no longer be asked for its state, so we read it just before.)

# %%
answerer.sendall(b"bye")
print("answerer, before it hangs up:", tcp_state(answerer))
answerer.close()
print("caller reads:", caller.recv(1024), caller.recv(1024))
print("caller:", wait_for_state(caller, "TIME_WAIT"))
caller.close()

# %% [markdown]
# That `TIME_WAIT` record is why lesson 01 met "Address already in use" after a
# server's restart: a server that hangs up first keeps such records on its own port.
#
# ### A reset (RST) instead of a hang-up (FIN)
#
# A program that crashes, or a socket closed with the `SO_LINGER` option set to zero,
# does not say goodbye: the operating system sends a **reset**. `reset_close(sock)`
# closes a socket that way. The other end does not read `b""`: its next `recv()`
# raises `ConnectionResetError`, and any data still in flight is thrown away.

# %%
caller = socket.create_connection(doorbell.getsockname(), timeout=5)
answerer, _ = doorbell.accept()
answerer.settimeout(5)
reset_close(caller)  # the caller's end: closed at once, no TIME_WAIT record kept

# %% tags=["raises-exception"]
answerer.recv(1024)

# %% [markdown]
# From the answerer's end the call is simply gone (no `CLOSE_WAIT`, no `TIME_WAIT`):

# %%
print("answerer:", tcp_state(answerer))
answerer.close()
doorbell.close()

# %% [markdown]
# A reset also answers a call to a port where nobody listens (that is the refusal of
# section 2), and a write to a line the other side has closed. The write after that
# one fails: that is the `BrokenPipeError` lesson 06 met (Windows reports it as
# `ConnectionAbortedError` or `ConnectionResetError`).
#
# ## 5. The error glossary
#
# Every error this course can produce, with its Python class, its **errno name** (the
# same on every system, unlike the number), the exact text on Linux, macOS and
# Windows, what it means in the doorbell and phone-call picture, and the lesson that
# explains it. The same table drives `tcplessons.explain()` and the extra line under a
# traceback.

# %%
tcplessons.error_glossary()

# %% [markdown]
# Now each of them live, on loopback. `reproduce(what, action)` runs the action,
# expects it to fail, and prints the error's class and errno name from the glossary
# (the text differs between systems, as the table shows):

# %%
def show(what, python_class, errno_name):
    print(f"{what:32} {python_class:24} {errno_name or 'no errno'}")


def reproduce(what, action):
    try:
        action()
    except OSError as exc:
        entry = entry_for(exc)
        show(what, type(exc).__name__, entry.errno_name if entry else "?")
    else:
        print(f"{what:32} did not fail")


listener = socket.create_server(("127.0.0.1", 0))

# %% [markdown]
# Calls that go wrong: nobody at the door; the other side cuts the call; talking after
# the other side hung up; nothing arrives in time.

# %%
def call_nobody():
    with closed_port() as nobody:
        socket.create_connection(nobody, timeout=5)


def read_after_reset():
    caller = socket.create_connection(listener.getsockname(), timeout=5)
    answerer, _ = listener.accept()
    with answerer:
        reset_close(caller)
        answerer.settimeout(5)
        answerer.recv(1024)


def write_after_hang_up():
    caller = socket.create_connection(listener.getsockname(), timeout=5)
    answerer, _ = listener.accept()
    with caller:
        answerer.close()  # the other side hangs up: a FIN arrives
        caller.recv(1024)  # b"": the FIN is here
        for _ in range(1000):  # the first write is answered with a reset; a later one fails
            try:
                caller.send(b"anyone?")
            except ConnectionResetError:
                if os.name == "nt":
                    raise  # Windows has no broken pipe: the reset is its answer
                continue  # macOS reports the reset itself first, then the broken pipe


def wait_too_long():
    with socket.create_connection(listener.getsockname(), timeout=0.2) as caller:
        caller.recv(1024)


reproduce("connection refused", call_nobody)
reproduce("connection reset", read_after_reset)
reproduce("broken pipe", write_after_hang_up)
reproduce("timed out", wait_too_long)

# %% [markdown]
# Addresses that go wrong: a door that already has a doorbell; an address this
# computer does not have (`192.0.2.1` is reserved for examples and never given to
# anyone); a port below 1024, which needs an administrator on Linux (unless the system
# is set to allow it, as in a Docker container).

# %%
def second_doorbell():
    with socket.socket() as again:
        again.bind(listener.getsockname())


def someone_elses_address():
    with socket.socket() as elsewhere:
        elsewhere.bind(("192.0.2.1", 0))


def low_port():
    with socket.socket() as low:
        low.bind(("127.0.0.1", 80))


reproduce("address already in use", second_doorbell)
reproduce("cannot assign requested address", someone_elses_address)
def low_ports_are_open_to_all():
    """True where anyone may bind port 80: Windows and macOS (since 10.14) have no such
    rule, an administrator may, and so may anyone on a Linux whose
    ip_unprivileged_port_start is 80 or less (in a Docker container it is 0)."""
    if os.name == "nt" or sys.platform == "darwin" or os.geteuid() == 0:
        return True
    try:
        with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as setting:
            return int(setting.read()) <= 80
    except (OSError, ValueError):
        return False  # no such setting (macOS): low ports need an administrator


if low_ports_are_open_to_all():
    # Here binding port 80 would work (or fail for another reason), so the row is
    # shown as text, from the glossary, instead of live.
    show("a port below 1024", "PermissionError", "EACCES")
else:
    reproduce("a port below 1024", low_port)

# %% [markdown]
# Sockets used the wrong way: reading from a socket that never connected, from one
# that is closed, and from a non-blocking one with nothing to read.

# %%
def read_unconnected():
    with socket.socket() as never:
        never.recv(1024)


def read_closed():
    gone = socket.create_connection(listener.getsockname(), timeout=5)
    gone.close()
    gone.recv(1024)


def read_nothing_yet():
    with socket.create_connection(listener.getsockname()) as eager:
        eager.setblocking(False)
        eager.recv(1024)


reproduce("not connected", read_unconnected)
reproduce("bad file descriptor", read_closed)
reproduce("nothing ready (non-blocking)", read_nothing_yet)
reproduce("unknown name", lambda: socket.getaddrinfo("x", 80, flags=socket.AI_NUMERICHOST))
listener.close()

# %% [markdown]
# Four rows of the table do not show up here: `ETIMEDOUT` needs minutes of
# unanswered retries, `ENETUNREACH` a network with no road to it,
# `ConnectionAbortedError` is mostly Windows's way of saying "broken pipe", and
# `EAI_ADDRFAMILY` is what an IPv4 (`AF_INET`) socket says when given `::1`, an address
# of the other family (the exercise below may show it to you).
#
# ## 6. Exercise: `connect_first(candidates, timeout)`
#
# Write what `create_connection` does with a name's addresses, for a list you are given:
#
# - `candidates` is a list of socket addresses in the order to try them, as
#   `getaddrinfo` gives them: `(host, port)` for IPv4 and
#   `(host, port, flowinfo, scope_id)` for IPv6 (a plain `(host, port)` with an IPv6
#   host is allowed too);
# - try each in turn; **each attempt gets the full `timeout`** (a silent address costs
#   `timeout` seconds, then the next one gets `timeout` seconds of its own: not a
#   deadline shared by all of them);
# - return the first connected socket, **blocking, with no timeout left set on it**;
# - **close every socket that failed** yourself (not left to the garbage collector);
# - if every candidate fails, raise `ConnectionError` whose message names each address
#   (host and port) with the text of the error it got, **one per line, in order**;
# - never try another candidate once one has connected.
#
# A list of candidates comes from `getaddrinfo`:
# `[info[4] for info in socket.getaddrinfo("localhost", port, type=socket.SOCK_STREAM)]`.
# The checks try yours with listening addresses, refused ones, silent ones and `::1`.
# A check that cannot run on your computer (no `::1`, or no silent address on Windows)
# is shown as `[skip]`, with the reason, and not counted.

# %% tags=["exercise"]
def connect_first(candidates, timeout):
    raise NotImplementedError("Write connect_first: try each address in turn, with a timeout for each")


# %% tags=["check"]
check("connect_first", connect_first)

# %% [markdown]
# ## Recap
#
# - `getaddrinfo(name, port)` turns a name into addresses, IPv6 (`::1`) and IPv4
#   (`127.0.0.1`); `create_connection` tries them in order until one answers.
# - A refusal is a reset answering the first packet: instant on Linux and macOS, about
#   two seconds on Windows.
# - Blocking waits forever, a timeout waits so long and raises `TimeoutError` (no
#   `errno`), non-blocking never waits and raises `BlockingIOError`; a deadline bounds
#   a whole exchange.
# - The system keeps a state for every call: `LISTEN`, `ESTABLISHED`, `FIN_WAIT2` and
#   `CLOSE_WAIT` after one FIN, `TIME_WAIT` for whoever hung up first; a reset (RST)
#   ends a call at once, and the other end reads `ConnectionResetError`, not `b""`.
# - `tcplessons.explain()` explains the last error; the table above lists them all.
#
# Stop everything this lesson started:

# %%
stop_all()
print(tcplessons.running_servers())
