import threading

EXPECT = "ada never received b'* bob left"


class ChatRoom:
    def __init__(self):
        self.lock = threading.Lock()
        self.members = {}

    def join(self, name, conn):
        with self.lock:
            others = list(self.members.values())
            self.members[name] = conn
        for c in others:
            c.sendall(f"* {name} joined\n".encode())

    def leave(self, name):
        with self.lock:
            self.members.pop(name, None)  # ...and nobody is told

    def broadcast(self, sender, text):
        with self.lock:
            others = [(n, c) for n, c in self.members.items() if n != sender]
        for n, c in others:
            try:
                c.sendall(f"{sender}: {text}\n".encode())
            except OSError:
                self.leave(n)
