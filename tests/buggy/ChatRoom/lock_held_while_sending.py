# Holds the room's lock across every sendall(): one member who stops reading stalls
# every join, leave and broadcast.
import threading

EXPECT = "broadcast() waited while another thread was sending to a member who does not read"


class ChatRoom:
    def __init__(self):
        self.lock = threading.Lock()
        self.members = {}

    def _send_locked(self, line, skip=None):
        failed = []
        for name, conn in list(self.members.items()):
            if name == skip:
                continue
            try:
                conn.sendall(line.encode("utf-8"))
            except OSError:
                failed.append(name)
        for name in failed:
            if self.members.pop(name, None) is not None:
                self._send_locked(f"* {name} left\n")

    def join(self, name, conn):
        with self.lock:
            self._send_locked(f"* {name} joined\n")
            self.members[name] = conn

    def leave(self, name):
        with self.lock:
            if self.members.pop(name, None) is not None:
                self._send_locked(f"* {name} left\n")

    def broadcast(self, sender, text):
        with self.lock:
            self._send_locked(f"{sender}: {text}\n", skip=sender)
