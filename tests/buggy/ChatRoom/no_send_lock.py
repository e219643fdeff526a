import threading

EXPECT = "lines bob received from two threads at once were mixed together"


class ChatRoom:
    def __init__(self):
        self.lock = threading.Lock()
        self.members = {}  # name -> socket (no lock of its own: two threads may send to it at once)

    def join(self, name, conn):
        with self.lock:
            others = list(self.members.items())
            self.members[name] = conn
        self._send(others, f"* {name} joined\n")

    def leave(self, name):
        with self.lock:
            if self.members.pop(name, None) is None:
                return  # already gone
            others = list(self.members.items())
        self._send(others, f"* {name} left\n")

    def broadcast(self, sender, text):
        with self.lock:
            others = [(n, c) for n, c in self.members.items() if n != sender]
        self._send(others, f"{sender}: {text}\n")

    def _send(self, members, line):
        data = line.encode("utf-8")
        failed = []
        for name, conn in members:
            try:
                conn.sendall(data)
            except OSError:
                failed.append(name)
        for name in failed:
            self.leave(name)
