EXPECT = "dictionary changed size during iteration"


class ChatRoom:
    def __init__(self):
        self.members = {}

    def _send(self, line, skip=None):
        failed = []
        for name, conn in self.members.items():  # another thread may join meanwhile
            if name == skip:
                continue
            try:
                conn.sendall(line.encode())
            except OSError:
                failed.append(name)
        for name in failed:
            self.leave(name)

    def join(self, name, conn):
        self._send(f"* {name} joined\n")
        self.members[name] = conn

    def leave(self, name):
        if self.members.pop(name, None) is not None:
            self._send(f"* {name} left\n")

    def broadcast(self, sender, text):
        self._send(f"{sender}: {text}\n", skip=sender)
