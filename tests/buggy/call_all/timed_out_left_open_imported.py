# Closes the writer only after a reply (with open_connection imported by name): a server
# that times out keeps its connection open.
import asyncio
from asyncio import open_connection

EXPECT = "the connection to the server that timed out was still open when call_all returned"


async def call_one(address, message):
    reader, writer = await open_connection(*address)
    writer.write(message)
    await writer.drain()
    writer.write_eof()
    reply = await reader.read()
    writer.close()
    return reply


async def guarded(address, message, timeout):
    try:
        return await asyncio.wait_for(call_one(address, message), timeout)
    except OSError as exc:  # TimeoutError is an OSError too
        return exc


async def call_all(addresses, message, timeout):
    return await asyncio.gather(*(guarded(a, message, timeout) for a in addresses))
