import threading

EXPECT = "socket was closed by the room"


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
            others = list(self.members.items())
            self.members[name] = conn
        self._send(others, f"* {name} joined\n")

    def leave(self, name):
        with self.lock:
            conn = self.members.pop(name, None)
            if conn is None:
                return
            others = list(self.members.items())
        conn.close()  # not the room's socket to close
        self._send(others, f"* {name} left\n")

    def broadcast(self, sender, text):
        with self.lock:
            others = [(n, c) for n, c in self.members.items() if n != sender]
        self._send(others, f"{sender}: {text}\n")
