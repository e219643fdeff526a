import threading

EXPECT = "was told about its own arrival"


class ChatRoom:
    def __init__(self):
        self.lock = threading.Lock()
        self.members = {}

    def _send(self, others, line):
        failed = []
        for name, conn in others:
            try:
                conn.sendall(line.encode())
            except OSError:
                failed.append(name)
        for name in failed:
            self.leave(name)

    def join(self, name, conn):
        with self.lock:
            self.members[name] = conn
            everyone = list(self.members.items())  # the newcomer too
        self._send(everyone, f"* {name} joined\n")

    def leave(self, name):
        with self.lock:
            if self.members.pop(name, None) is None:
                return
            others = list(self.members.items())
        self._send(others, f"* {name} left\n")

    def broadcast(self, sender, text):
        with self.lock:
            others = [(n, c) for n, c in self.members.items() if n != sender]
        self._send(others, f"{sender}: {text}\n")
