"""The websocket consumer: a thin adapter between one socket and its :class:`~notifications.session.HubSession`.

The session holds every rule (docs/protocol.md); this module only moves frames between
the socket and the session, and reads the handshake (who, resume positions).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from autobahn.exception import Disconnected as _AutobahnDisconnected
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from redis.exceptions import RedisError

from notifications import groups, limits, protocol
from notifications.auth import SUBPROTOCOL
from notifications.conf import hub_settings
from notifications.session import HubSession

logger = logging.getLogger(__name__)

# What servers raise when the app sends on a socket the client just closed: Uvicorn an
# OSError (ClientDisconnected), Daphne autobahn's Disconnected.
_SOCKET_GONE: tuple[type[BaseException], ...] = (OSError, _AutobahnDisconnected)


class HubConsumer(AsyncWebsocketConsumer):
    """One multiplexed hub connection over a websocket."""

    wants_cursor = False  # as a Transport: websocket frames carry no cursor
    batches = False  # as a Transport: set when the client asked for batches (?batch=1)
    write_delay = 0.0  # with batches: HUB_WRITE_DELAY, the wait for more events before a write
    closing = False  # set once the hub closes the socket: later frames are not sent
    session: HubSession | None = None
    address: str | None = None  # the client's address while counted against HUB_MAX_CONNECTIONS_PER_ADDRESS
    resume_reading: Callable[[], None] | None = None  # with hub.receive_into: the server's "read on"

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        """Serve one socket from a single queue: layer messages and websocket events, in order.

        Channels' loop (``await_many_dispatch``) creates a task and an ``asyncio.wait`` per
        message; here the websocket events are pumped into the channel's own queue, so a
        relay costs one ``queue.get()``. Under ``notifications.servers uvicorn`` the server
        puts them there itself (the ``hub.receive_into`` extension), without a pump task.
        """
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name, queue = await self.channel_layer.new_inbox()
        self.base_send = send
        receive_into = (scope.get("extensions") or {}).get(protocol.RECEIVE_INTO)
        pump = None
        if receive_into is not None:  # the server puts the socket's events in the queue itself
            self.resume_reading = receive_into(queue.put_beside)
        else:
            pump = asyncio.get_running_loop().create_task(_pump(receive, queue))
        task = asyncio.current_task()
        try:
            while True:
                message = await queue.get()
                if self.batches and message["type"] == groups.EVENT_TYPE:
                    await self._relay_batch(message, queue)
                else:
                    await self.dispatch(message)
                if task is not None and task.cancelling():
                    # Cancelled (a server shutting down), but a library below swallowed it: end
                    # here, or the consumer would wait on its queue for ever.
                    raise asyncio.CancelledError
        except StopConsumer:
            pass
        finally:
            # Whatever ended the loop (a disconnect, an error), nothing stays subscribed.
            if pump is not None:
                pump.cancel()
            limits.connection_closed(self.address)
            if self.session is not None:
                await self.session.leave()
            try:
                await self.channel_layer.close_inbox(self.channel_name)
            except RedisError as error:
                logger.warning("Could not unsubscribe channel %s: %s", self.channel_name, error)

    async def dispatch(self, message: dict) -> None:
        """Websocket events go to this consumer's handlers, everything else to the session.

        Unlike ``AsyncConsumer.dispatch``, no ``aclose_old_connections()`` thread hop per
        message: relays never touch the database, and the session's database calls go
        through ``database_sync_to_async``, which closes stale connections itself.
        """
        kind = message["type"]
        if kind.startswith("websocket."):
            await getattr(self, kind.replace(".", "_"))(message)
        elif self.closing:
            return  # closed by the hub: only the disconnect still matters
        elif self.session is not None:
            if kind == groups.EVENT_TYPE:
                await self.session.hub_event(message)  # the hot path, without the lookup
            else:
                await self.session.handle(message)

    async def _relay_batch(self, first: dict, queue: Any) -> None:
        """Relay ``first`` and the events queued behind it (after ``HUB_WRITE_DELAY``) as one websocket message."""
        if self.write_delay and not _is_event(queue.peek()):
            # Nothing behind it yet: what arrives meanwhile goes out in the same write. With
            # events already waiting there is no wait, so a busy topic is never held back.
            await asyncio.sleep(self.write_delay)
        if not _is_event(queue.peek()):
            await self.dispatch(first)  # a lone event: the plain path
            return
        batch = [first]
        while len(batch) < _BATCH and _is_event(queue.peek()):
            batch.append(queue.get_nowait())
        if self.session is not None and not self.closing:
            await self.session.hub_events(batch)

    async def connect(self) -> None:
        """Refuse visitors if HUB_ALLOW_ANONYMOUS is off; else open the session (join, hello, replay)."""
        user = self.scope.get("user")
        if not (user is not None and user.is_authenticated) and not hub_settings.HUB_ALLOW_ANONYMOUS:
            # Accepted first: a handshake refusal reaches browsers only as close code 1006.
            await self.accept()
            await self.close(protocol.CLOSE_ANONYMOUS_REFUSED)
            return
        address = (self.scope.get("client") or (None,))[0]
        if not limits.connection_opened(address):
            await self.accept()
            await self.close(protocol.CLOSE_TOO_MANY_CONNECTIONS)
            return
        self.address = address
        self.session = HubSession(
            self.channel_layer,
            self.channel_name,
            user,
            self,
            _session_mark(self.scope),
            self.scope.get("hub_token"),
            address,
        )
        query = parse_qs(self.scope.get("query_string", b"").decode("latin1"))
        self.batches = query.get("batch") == ["1"]
        self.write_delay = hub_settings.HUB_WRITE_DELAY if self.batches else 0.0
        # A client that offered hub.v1 (a token in the subprotocols) must get it back, or browsers drop the socket.
        await self.accept(SUBPROTOCOL if SUBPROTOCOL in (self.scope.get("subprotocols") or ()) else None)
        await self.session.open(_resume(query, self.session.user_id))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Hand a client frame to the session; then the server may read the next one."""
        try:
            if self.session is not None:
                await self.session.receive_text(text_data)
        finally:
            if self.resume_reading is not None:
                self.resume_reading()

    async def disconnect(self, code: int) -> None:
        """Leave every group (the session is left again, harmlessly, when the loop ends)."""
        if self.session is not None:
            await self.session.leave()

    async def send(self, text_data: str | None = None, cursor: str | None = None, close: bool = False) -> None:
        """Send a text frame (the Transport's ``send``); if the socket is closing or the client has gone, drop it."""
        if self.closing:
            return
        try:
            if close or text_data is None:
                await super().send(text_data, None, close)
            else:  # the hot path: straight to the server, two coroutine frames fewer per delivery
                await self.base_send({"type": "websocket.send", "text": text_data})
        except _SOCKET_GONE:
            logger.debug("Dropped a frame for a socket that is already closed")
        except RuntimeError:
            # What the ASGI spec has a server raise for a send after its close: the server
            # closed this socket itself (Uvicorn, a client that missed its keepalive pings)
            # before the disconnect reached this consumer's queue.
            self.closing = True
            logger.debug("Dropped a frame for a socket the server closed")

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        """Close the socket once; frames queued behind the close are not sent."""
        if self.closing:
            return
        self.closing = True
        try:
            await super().close(code, reason)
        except _SOCKET_GONE:
            logger.debug("The client closed first")
        except RuntimeError:  # the server closed it first (see send)
            logger.debug("The server closed the socket first")


async def _pump(receive: Any, queue: Any) -> None:
    """Move websocket events into the consumer's queue until the socket is gone."""
    while True:
        message = await receive()
        queue.put_beside(message)
        if message["type"] == "websocket.disconnect":
            return


_BATCH = 100  # queued events taken into one batch at most (the session splits big ones further)


def _is_event(message: dict | None) -> bool:
    return message is not None and message.get("type") == groups.EVENT_TYPE


def _resume(query: dict[str, list[str]], user_id: int | None) -> dict[str, str]:
    """Return the positions the client hands back on connect: ``?positions=CURSOR``, or ``?since=ID`` (user stream)."""
    resume = protocol.decode_cursor(query.get("positions", [""])[0])
    since = query.get("since", [""])[0]
    if user_id is not None and protocol.is_event_id(since):
        resume.setdefault(groups.user_stream(user_id), since)
    return resume


def _session_mark(scope: dict) -> str | None:
    if scope.get("hub_token") is not None:
        return None
    session = scope.get("session")
    key = getattr(session, "session_key", None)
    return groups.session_mark(key) if key else None
