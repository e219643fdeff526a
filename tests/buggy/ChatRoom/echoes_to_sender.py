import threading

EXPECT = "received its own message back"


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
            self.members.pop(name, None)
            others = list(self.members.values())
        for c in others:
            c.sendall(f"* {name} left\n".encode())

    def broadcast(self, sender, text):
        with self.lock:
            everyone = list(self.members.values())
        for c in everyone:  # the sender too
            try:
                c.sendall(f"{sender}: {text}\n".encode())
            except OSError:
                pass
