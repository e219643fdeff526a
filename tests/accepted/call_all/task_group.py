# A TaskGroup, each task catching its own errors so one failure cancels nothing.
import asyncio


async def call_all(addresses, message, timeout):
    async def one(address):
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
                try:
                    await writer.wait_closed()
                except OSError:
                    pass

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(address)) for address in addresses]
    return [task.result() for task in tasks]
