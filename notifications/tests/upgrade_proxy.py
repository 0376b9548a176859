"""A local HTTP proxy that refuses websocket upgrades, as some corporate proxies do.

Browser tests put it in front of a hub to make the websocket really fail (the browser sees
the upgrade answered with HTTP 502) while plain HTTP, Server-Sent Events included, passes
through. Every connection carries one request (the proxy asks for ``Connection: close``),
so each request is seen and judged on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator

__all__ = ["UpgradeRefusingProxy", "refusing_upgrades"]

logger = logging.getLogger(__name__)

_REFUSAL = b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 24\r\nConnection: close\r\n\r\nwebsockets are not here\n"
_HOP_BY_HOP = (b"connection:", b"keep-alive:", b"proxy-connection:")


class UpgradeRefusingProxy:
    """Forwards HTTP from 127.0.0.1:``port`` to 127.0.0.1:``target``, answering websocket upgrades 502."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = 0
        self.refused: list[str] = []  # request lines of the upgrades refused
        self.passed: list[str] = []  # request lines forwarded
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="upgrade-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Listen on a free port (``self.port``) in a thread of its own."""
        self._thread.start()
        listening = asyncio.run_coroutine_threadsafe(asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop)
        self._server = listening.result(10)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        """Close the listener and every connection, and stop the thread."""

        async def shut() -> None:
            assert self._server is not None
            self._server.close()
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shut(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        lines = head[:-4].split(b"\r\n")
        request_line = lines[0].decode("latin-1")
        headers = [line for line in lines[1:] if not line.lower().startswith(_HOP_BY_HOP)]
        if any(line.lower().startswith(b"upgrade:") and b"websocket" in line.lower() for line in headers):
            self.refused.append(request_line)
            writer.write(_REFUSAL)
            await _close(writer)
            return
        self.passed.append(request_line)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            await _close(writer)  # the server is down: the browser sees the connection fail
            return
        upstream_writer.write(b"\r\n".join([lines[0], *headers, b"Connection: close", b"", b""]))
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy ``reader`` to ``writer`` until either side ends, then close ``writer``."""
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except ConnectionError as error:
        logger.debug("proxy: a connection ended: %s", error)
    finally:
        await _close(writer)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


@contextlib.contextmanager
def refusing_upgrades(target: int) -> Iterator[UpgradeRefusingProxy]:
    """Run an :class:`UpgradeRefusingProxy` to port ``target`` for the ``with`` block."""
    proxy = UpgradeRefusingProxy(target)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
