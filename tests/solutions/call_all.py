import asyncio


async def call_one(address, message, timeout):
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(*address)
            writer.write(message)
            await writer.drain()
            writer.write_eof()  # half-close: "that was my whole message"
            return await reader.read()  # everything, until the server hangs up
    except OSError as exc:  # refused, reset, and TimeoutError (an OSError too)
        return exc
    finally:
        if writer is not None:
            writer.close()


async def call_all(addresses, message, timeout):
    return await asyncio.gather(*(call_one(address, message, timeout) for address in addresses))
