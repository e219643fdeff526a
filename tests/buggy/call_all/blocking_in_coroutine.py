# Lesson 03's blocking socket code inside async def: gather() is used, but each recv()
# stops the event loop, so the calls still run one after another.
import asyncio
import socket

EXPECT = "call_all's event loop stood still while it waited for the first server"


async def call_one(address, message, timeout):
    try:
        with socket.create_connection(address, timeout=timeout) as sock:
            sock.sendall(message)
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
            return b"".join(chunks)
    except OSError as exc:
        return exc


async def call_all(addresses, message, timeout):
    return list(await asyncio.gather(*(call_one(a, message, timeout) for a in addresses)))
