import threading

EXPECT = "do not end with a newline"


class ChatRoom:
    def __init__(self):
        self.lock = threading.Lock()
        self.members = {}

    def _send(self, others, line):
        for name, conn in others:
            try:
                conn.sendall(line.encode())
            except OSError:
                self.leave(name)

    def join(self, name, conn):
        with self.lock:
            others = list(self.members.items())
            self.members[name] = conn
        self._send(others, f"* {name} joined")

    def leave(self, name):
        with self.lock:
            if self.members.pop(name, None) is None:
                return
            others = list(self.members.items())
        self._send(others, f"* {name} left")

    def broadcast(self, sender, text):
        with self.lock:
            others = [(n, c) for n, c in self.members.items() if n != sender]
        self._send(others, f"{sender}: {text}")
