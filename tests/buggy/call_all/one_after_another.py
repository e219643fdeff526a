# Awaits each server before even connecting to the next: the time is the sum, not the max.
import asyncio

EXPECT = "call_all waited for one server before sending to the next"


async def call_all(addresses, message, timeout):
    replies = []
    for address in addresses:
        writer = None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(*address)
                writer.write(message)
                await writer.drain()
                writer.write_eof()
                replies.append(await reader.read())
        except OSError as exc:
            replies.append(exc)
        finally:
            if writer:
                writer.close()
    return replies
