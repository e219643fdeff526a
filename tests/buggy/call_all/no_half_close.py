# Never says "that was all": the servers wait for more of the message, the client waits
# for a reply, and every call times out.
import asyncio

EXPECT = "still waiting for the end of your message"


async def call_one(address, message, timeout):
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(*address)
            writer.write(message)
            await writer.drain()
            return await reader.read()
    except OSError as exc:
        return exc
    finally:
        if writer:
            writer.close()


async def call_all(addresses, message, timeout):
    return await asyncio.gather(*(call_one(a, message, timeout) for a in addresses))
