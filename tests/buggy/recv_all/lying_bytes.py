# A bytes subclass whose == is always true: caught by comparing exact types.
EXPECT = "a subclass of bytes"


class Yes(bytes):
    def __eq__(self, other):
        return True

    __hash__ = bytes.__hash__


def recv_all(sock):
    return Yes()
