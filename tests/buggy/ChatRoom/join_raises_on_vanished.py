EXPECT = "join() let a socket error escape when a member had vanished"


class ChatRoom:
    """No lock, and only broadcast() and leave() catch a failed send: join() does not."""

    def __init__(self):
        self.members = {}

    def join(self, name, conn):
        for other in list(self.members.values()):
            other.sendall(f"* {name} joined\n".encode())  # a vanished member raises here
        self.members[name] = conn

    def _tell(self, line, skip=None):
        gone = []
        for name, conn in list(self.members.items()):
            if name == skip:
                continue
            try:
                conn.sendall(line.encode())
            except OSError:
                gone.append(name)
        for name in gone:
            self.leave(name)

    def leave(self, name):
        if self.members.pop(name, None) is not None:
            self._tell(f"* {name} left\n")

    def broadcast(self, sender, text):
        self._tell(f"{sender}: {text}\n", skip=sender)
