# Patch the socket class at run time through an instance, out of sight of a static look.
# EXPECT exercise: open_doorbell
# EXPECT note: open_doorbell: its code replaced socket.socket.getsockname
# %% tags=["exercise"]
def open_doorbell():
    import socket

    sock = socket.socket()
    kind = type(sock)
    kind.getsockname = lambda self: ("127.0.0.1", 54321)
    return sock
# %% tags=["check"]
check("open_doorbell", open_doorbell)
