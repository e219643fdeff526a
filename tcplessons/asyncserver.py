"""asyncio servers in the background: ``asyncio.start_server`` on a loop of their own.

A notebook's kernel already runs an asyncio event loop in the main thread (that is how
``await`` works in a cell), and a cell that runs ``loop.run_forever()`` there would never
finish.  So each server gets a new event loop in a daemon thread, and cells stay free::

    async def handle_echo(reader, writer):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()          # wait while the caller is slow to read

    server = start_async_server(handle_echo)   # listening before this line returns
    ...                                         # connect to server.address, as always
    server.stop()                               # every caller, the loop, the thread: gone

The server object behaves like the others (``.address``, ``.name``, ``.log`` with
"connected", "error" and "closed" events, ``.stop()``, a context manager, ``stop_all()``,
replaced when started again under the same name).  The handler's exceptions are recorded
in the log, never printed.  ``server.run(coro)`` runs a coroutine on the server's loop and
returns its result (for code that must touch the loop's objects).
"""

from __future__ import annotations

import asyncio
import inspect
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from .events import EventLog
from .servers import _forget, _registry_lock, _running

__all__ = ["AsyncServer", "start_async_server"]

#: How long stop() waits for the loop to finish its callers.
STOP_TIMEOUT = 2.0

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class AsyncServer:
    """``asyncio.start_server`` on an event loop in a daemon thread.

    Use :func:`start_async_server` rather than this class.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        name: str,
        host: str = "127.0.0.1",
        port: int = 0,
        backlog: int = 128,
    ):
        self.name = name
        self.handler = handler
        self.log = EventLog()
        self._count = 0
        self._tasks: dict[asyncio.Task, int] = {}
        self._stopping = False
        self._stopped = threading.Event()
        # Bind and listen here, in the caller's thread: callers queue in the backlog from
        # the moment this returns; asyncio accepts them once its loop runs.
        self.listener = socket.create_server((host, port), backlog=backlog)
        self.address: tuple[str, int] = self.listener.getsockname()[:2]
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name=f"tcplessons {name} asyncio", daemon=True
        )
        self._thread.start()
        try:
            self._server = self.run(self._start())
        except BaseException:
            self._halt()
            self.listener.close()
            raise
        self.log.record("listening")

    @property
    def running(self) -> bool:
        return not self._stopped.is_set()

    @property
    def port(self) -> int:
        return self.address[1]

    def nc_command(self) -> str:
        host, port = self.address
        return f"nc {host} {port}"

    def run(self, coro: Awaitable[Any], timeout: float | None = 10.0) -> Any:
        """Run ``coro`` on the server's loop and return its result (from any other thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _start(self) -> asyncio.AbstractServer:
        return await asyncio.start_server(self._serve, sock=self.listener)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._count += 1
        line = self._count
        self._tasks[asyncio.current_task()] = line
        self.log.record("connected", line, peer=writer.get_extra_info("peername"))
        try:
            await self.handler(reader, writer)
        except asyncio.CancelledError:
            pass  # stop() cancelled us: not the handler's fault
        except Exception as exc:  # captured, never printed
            self.log.record("error", line, error=exc)
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (OSError, asyncio.CancelledError):
                pass
            self._tasks.pop(asyncio.current_task(), None)
            self.log.record("closed", line)

    async def _shut_down(self) -> None:
        self._server.close()  # no more callers; closes the listening socket
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # asyncio.to_thread() and run_in_executor() start threads: none may outlive stop().
        await self.loop.shutdown_default_executor()

    def _halt(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(STOP_TIMEOUT)
        if not self._thread.is_alive():
            self.loop.close()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Close the listener and every caller, stop the loop and its thread.  Safe twice."""
        if self._stopping:
            self._stopped.wait(timeout)
            return
        self._stopping = True
        try:
            self.run(self._shut_down(), timeout)
        except Exception as exc:  # e.g. a handler that blocks the loop: recorded, not raised
            self.log.record("error", error=RuntimeError(f"the loop did not stop cleanly: {exc!r}"))
        self._halt()
        self.listener.close()
        _forget(self)
        self.log.record("stopped")
        self._stopped.set()

    def __enter__(self) -> AsyncServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<AsyncServer {self.name!r} on {self.address[0]} ({state})>"


def start_async_server(
    handler: Handler,
    name: str | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    backlog: int = 128,
) -> AsyncServer:
    """Serve every caller with ``await handler(reader, writer)`` on a background loop.

    ``handler`` is an ``async def`` taking asyncio's ``StreamReader`` and
    ``StreamWriter``; the server closes the writer when it returns.  ``name`` defaults to
    the handler's name; a running server with the same name is stopped first.
    Next: connect to ``server.address``; ``server.stop()``.
    """
    if not inspect.iscoroutinefunction(handler):
        raise TypeError(f"handler must be an async def taking (reader, writer), got {handler!r}")
    name = name or getattr(handler, "__name__", "asyncio")
    with _registry_lock:
        old = _running.pop(name, None)
    if old is not None:
        old.stop()
    server = AsyncServer(handler, name=name, host=host, port=port, backlog=backlog)
    with _registry_lock:
        _running[name] = server
    return server
