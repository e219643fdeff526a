# asyncio.wait(..., timeout=...) without cancelling what is still pending: that task keeps
# running (and its connection open) after call_all has returned.
import asyncio

EXPECT = "call_all returned while 1 of the tasks it started were still running"


async def call_one(address, message):
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(message)
        await writer.drain()
        writer.write_eof()
        return await reader.read()
    finally:
        writer.close()


async def call_all(addresses, message, timeout):
    if not addresses:
        return []
    tasks = [asyncio.ensure_future(call_one(a, message)) for a in addresses]
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    replies = []
    for task in tasks:
        if task in pending:
            replies.append(TimeoutError())  # forgot task.cancel()
        elif task.exception() is not None:
            replies.append(task.exception())
        else:
            replies.append(task.result())
    return replies
