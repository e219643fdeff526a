# A TaskGroup whose tasks let errors escape: one failure cancels every other call.
import asyncio

EXPECT = "call_all raised ExceptionGroup for the whole batch"


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
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(call_one(a, message, timeout)) for a in addresses]
    return [t.result() for t in tasks]
