# create_task() for each, then await them in order: they all run meanwhile.
import asyncio


async def call_one(address, message):
    reader, writer = await asyncio.open_connection(address[0], address[1])
    try:
        writer.write(message)
        await writer.drain()
        writer.write_eof()
        return await reader.read(-1)
    finally:
        writer.close()


async def call_all(addresses, message, timeout):
    tasks = [
        asyncio.create_task(asyncio.wait_for(call_one(a, message), timeout)) for a in addresses
    ]
    replies = []
    for task in tasks:
        try:
            replies.append(await task)
        except OSError as exc:
            replies.append(exc)
    return replies
