# gather() without return_exceptions: the first refusal is raised for the whole batch.
import asyncio

EXPECT = "call_all raised ConnectionRefusedError for the whole batch"


async def call_one(address, message, timeout):
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(*address)
        writer.write(message)
        await writer.drain()
        writer.write_eof()
        reply = await reader.read()
        writer.close()
        return reply


async def call_all(addresses, message, timeout):
    return await asyncio.gather(*(call_one(a, message, timeout) for a in addresses))
