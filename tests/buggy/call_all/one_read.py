# One read(65536) takes whatever has arrived so far, not the whole reply.
import asyncio

EXPECT = "is not the whole reply of server 0"


async def call_one(address, message, timeout):
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(*address)
            writer.write(message)
            await writer.drain()
            writer.write_eof()
            return await reader.read(65536)
    except OSError as exc:
        return exc
    finally:
        if writer:
            writer.close()


async def call_all(addresses, message, timeout):
    return await asyncio.gather(*(call_one(a, message, timeout) for a in addresses))
