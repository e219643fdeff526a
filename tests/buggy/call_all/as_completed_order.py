# Collects replies as they finish: the fastest server's reply comes first, whatever its
# place in addresses.
import asyncio

EXPECT = "the replies are not in the order of addresses"


async def call_one(address, message, timeout):
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(*address)
            writer.write(message)
            await writer.drain()
            writer.write_eof()
            return await reader.read()
    except OSError as exc:
        return exc
    finally:
        if writer:
            writer.close()


async def call_all(addresses, message, timeout):
    replies = []
    for next_done in asyncio.as_completed([call_one(a, message, timeout) for a in addresses]):
        replies.append(await next_done)
    return replies
