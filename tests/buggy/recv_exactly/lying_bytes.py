# Returns a bytes subclass whose == says yes to anything: the checks compare exact types.
EXPECT = "a subclass of bytes (Agreeable), not bytes itself"


class Agreeable(bytes):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = bytes.__hash__


def recv_exactly(sock, n):
    return Agreeable(b"")
