# One timeout around the whole gather: the silent server makes every slot a TimeoutError.
import asyncio

EXPECT = "every slot holds a TimeoutError instance"


async def call_one(address, message):
    writer = None
    try:
        reader, writer = await asyncio.open_connection(*address)
        writer.write(message)
        await writer.drain()
        writer.write_eof()
        return await reader.read()
    except OSError as exc:
        return exc
    finally:
        if writer is not None:
            writer.close()


async def call_all(addresses, message, timeout):
    try:
        return await asyncio.wait_for(
            asyncio.gather(*(call_one(a, message) for a in addresses)), timeout
        )
    except TimeoutError as exc:
        return [exc] * len(addresses)
