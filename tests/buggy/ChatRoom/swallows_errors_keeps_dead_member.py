import threading

EXPECT = "cy never received b'* bob left"


class ChatRoom:
    def __init__(self):
        self.lock = threading.Lock()
        self.members = {}

    def _send(self, others, line):
        for conn in others:
            try:
                conn.sendall(line.encode())
            except OSError:
                pass  # ...but the dead member stays, and nobody hears it left

    def join(self, name, conn):
        with self.lock:
            others = list(self.members.values())
            self.members[name] = conn
        self._send(others, f"* {name} joined\n")

    def leave(self, name):
        with self.lock:
            self.members.pop(name, None)
            others = list(self.members.values())
        self._send(others, f"* {name} left\n")

    def broadcast(self, sender, text):
        with self.lock:
            others = [c for n, c in self.members.items() if n != sender]
        self._send(others, f"{sender}: {text}\n")
