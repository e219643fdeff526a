# No timeout at all: a server that never answers keeps call_all waiting for ever.
import asyncio

EXPECT = "call_all did not return within"


async def call_one(address, message):
    try:
        reader, writer = await asyncio.open_connection(*address)
        writer.write(message)
        await writer.drain()
        writer.write_eof()
        reply = await reader.read()
        writer.close()
        return reply
    except OSError as exc:
        return exc


async def call_all(addresses, message, timeout):
    return await asyncio.gather(*(call_one(a, message) for a in addresses))
