"""Uvicorn's websocket protocol, holding less per connection (``python -m notifications.servers uvicorn`` runs it).

An idle connection of Uvicorn's ``websockets-sansio`` protocol keeps an ``asyncio.Queue``
and an ``asyncio.Event`` (about 3.7 KB of deques) and the handshake's request and
response headers (about 2.5 KB), and an app that waits on its socket and on a channel
at once runs a second task to do so. This subclass:

- queues and flags with :mod:`notifications.queues`' slotted objects instead;
- forgets the handshake's headers once it is answered (the scope has its own copy);
- offers the ``hub.receive_into`` ASGI extension: ``put = scope["extensions"]
  ["hub.receive_into"]`` hands the socket's events (those waiting first) to ``put(event)``
  from then on, instead of to ``receive()``; it returns a ``resume()`` function, which the
  app calls each time it has taken a client message. As with ``receive()``, reading stops
  after a read that brought client messages until the app has taken all of them. The
  hub's consumer uses it to need no pump task.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from notifications.protocol import RECEIVE_INTO
from notifications.queues import ChannelQueue, Flag

__all__ = ["LeanWebSocketProtocol"]


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """``WebSocketsSansIOProtocol`` with slotted queue and flag, no kept handshake, and ``hub.receive_into``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue: Any = ChannelQueue()
        self.writable: Any = Flag()
        self.writable.set()

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # none when the handshake was refused
        if scope is not None:
            scope["extensions"][RECEIVE_INTO] = self._receive_into

    def start_keepalive(self) -> None:
        super().start_keepalive()
        # Called once the handshake is answered: nothing reads its request or response again.
        # websockets' parser still holds the request, so its headers are emptied, not just dropped.
        if getattr(self, "request", None) is not None:
            self.request.headers.clear()
        self.request = self.response = None  # type: ignore[assignment]

    _unread = 0  # client messages handed to the app (hub.receive_into) that it has not taken yet

    def _receive_into(self, put: Callable[[dict], None]) -> Callable[[], None]:
        """Hand every later websocket event to ``put`` (those waiting first); return ``resume``."""
        waiting = self.queue
        self.queue = _Forward(self, put)
        while not waiting.empty():
            self.queue.put_nowait(waiting.get_nowait())
        return self._resume_reading

    def _resume_reading(self) -> None:
        """The app has taken a client message: once it has taken all it was handed, read on.

        As ``receive()`` does when its queue is empty: a client that floods gets at most one
        socket read's worth of messages queued, however slowly the app takes them.
        """
        self._unread = max(self._unread - 1, 0)
        if self._unread == 0 and self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()


class _Forward:
    """Stands in for the protocol's queue once the app takes the events itself."""

    __slots__ = ("_protocol", "_put")

    def __init__(self, protocol: LeanWebSocketProtocol, put: Callable[[dict], None]):
        self._protocol = protocol
        self._put = put

    def put_nowait(self, event: dict) -> None:
        if event["type"] == "websocket.receive":
            self._protocol._unread += 1
        self._put(event)

    def empty(self) -> bool:
        return True

    async def get(self) -> dict:
        raise RuntimeError("this socket's events go to the app (hub.receive_into), not to receive()")
