# gather(return_exceptions=True) collects the errors; wait_for() bounds each call.
import asyncio


async def exchange(address, message):
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(message)
        await writer.drain()
        writer.write_eof()
        chunks = []
        while chunk := await reader.read(4096):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        writer.close()


async def call_all(addresses, message, timeout):
    calls = [asyncio.wait_for(exchange(a, message), timeout) for a in addresses]
    return list(await asyncio.gather(*calls, return_exceptions=True))
