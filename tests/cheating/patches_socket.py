# Patch the socket methods the checks call, so a plain socket looks like a listening one.
# EXPECT exercise: open_doorbell
# EXPECT score: 1 (a plain socket honestly passes "returns a TCP socket", and no more)
# EXPECT note: replaces socket.socket.getsockname
# %%
import socket

socket.socket.getsockname = lambda self: ("127.0.0.1", 54321)
# %% tags=["exercise"]
def open_doorbell():
    return socket.socket()
# %% tags=["check"]
check("open_doorbell", open_doorbell)
