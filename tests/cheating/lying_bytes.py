# Return bytes that claim to be equal to anything.
# EXPECT exercise: recv_all
# EXPECT note: defines a bytes subclass that overrides __eq__
# %% tags=["exercise"]
class Anything(bytes):
    def __eq__(self, other):
        return True

    __hash__ = bytes.__hash__


def recv_all(sock):
    return Anything(b"")
# %% tags=["check"]
check("recv_all", recv_all)
