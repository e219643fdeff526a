# leave() of a name that is not (or no longer) in the room raises KeyError.
import threading

EXPECT = "leave() raised KeyError for a name that is not in the room"


class ChatRoom:
    def __init__(self):
        self.lock = threading.Lock()  # guards self.members
        self.members = {}  # name -> (socket, that member's send lock)

    def join(self, name, conn):
        with self.lock:
            others = list(self.members.items())
            self.members[name] = (conn, threading.Lock())
        self._send(others, f"* {name} joined\n")

    def leave(self, name):
        with self.lock:
            del self.members[name]
            others = list(self.members.items())
        self._send(others, f"* {name} left\n")

    def broadcast(self, sender, text):
        with self.lock:
            others = [(n, m) for n, m in self.members.items() if n != sender]
        self._send(others, f"{sender}: {text}\n")

    def _send(self, members, line):
        data = line.encode("utf-8")
        failed = []
        for name, (conn, sending) in members:
            try:
                with sending:  # one sendall() at a time per member, or two lines could mix
                    conn.sendall(data)
            except OSError:
                failed.append(name)
        for name in failed:
            self.leave(name)
