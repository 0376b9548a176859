"""A small asyncio client of the hub, for scripts and tests.

    async with HubClient("ws://127.0.0.1:8000/ws/", token=token) as hub:
        await hub.subscribe("chat.lobby")
        async for frame in hub.events():
            print(frame["event"], frame["data"])

Presence (topics declared with ``presence=True``)::

        await hub.subscribe("chat.lobby", presence=True)
        hub.presence("chat.lobby")  # {"members": [{"id": 7, "username": "alice"}], "visitors": 2}
        hub.on_presence("chat.lobby", lambda state, frame: print(state["members"]))

It reconnects with exponential backoff and jitter, resubscribes its topics (asking for
presence again where it did), and resumes every stream from its position: the last event id it received there, or the
position the hub reported (``hello.positions``, ``subscribed.position``) when it has
received none. The hub replays the gap, or sends ``reset`` first when it cannot.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
import re
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import websockets
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin, Subprotocol

__all__ = ["HubClient", "HubError"]

logger = logging.getLogger(__name__)

_FINAL_CLOSE_CODES = (4000, 4003)  # logged out, visitors refused: reconnecting cannot help
_EVENT_ID = re.compile(r"([0-9]{1,19})-([0-9]{1,19})")
_STANDING_PREFIXES = ("user.", "broadcast.")  # streams joined on connect, resumed through the URL
_PRESENCE_FRAMES = frozenset({"presence", "join", "leave", "visitors"})


class HubError(Exception):
    """The hub answered a request with an ``error`` frame."""

    def __init__(self, frame: dict[str, Any]):
        super().__init__("%s: %s" % (frame.get("code"), frame.get("message")))
        self.code = frame.get("code")
        self.frame = frame


class HubClient:
    """One hub connection: requests are matched to replies by ``ref``; events are queued."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        origin: str | None = None,
        reconnect: bool = True,
        max_backoff: float = 10.0,
    ):
        self.base_url = url
        self.token = token
        self.origin = origin
        self.reconnect = reconnect
        self.max_backoff = max_backoff
        self.hello: dict[str, Any] | None = None
        self.topics: set[str] = set()
        # stream -> position: the id of the last event received there, or the one the hub reported.
        self.last_ids: dict[str, str] = {}
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.close_code: int | None = None
        self._refs = itertools.count(1)
        self._waiting: dict[Any, asyncio.Future[dict[str, Any]]] = {}
        self._socket: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._closing = False
        # stream -> the position the hub reported for it on this connection (hello, subscribed).
        self._reported: dict[str, str] = {}
        self._presence: dict[str, _Presence] = {}  # topic whose presence was asked for -> what is known

    @property
    def url(self) -> str:
        """The URL to connect to, with the cursor of the user and broadcast streams' positions (never the token)."""
        query = {"batch": "1"}  # a message may carry several frames, one per line
        cursor = ",".join(
            f"{stream}={position}"
            for stream, position in sorted(self.last_ids.items())
            if stream.startswith(_STANDING_PREFIXES) and stream not in self.topics
        )
        if cursor:
            query["positions"] = cursor
        return f"{self.base_url}{'&' if '?' in self.base_url else '?'}{urlencode(query)}"

    async def connect(self) -> dict[str, Any]:
        """Open the socket and return the ``hello`` frame."""
        origin = None if self.origin is None else Origin(self.origin)
        # The token travels as a subprotocol, so that it stays out of URLs and access logs.
        subprotocols = (
            [Subprotocol("hub.v1"), Subprotocol("hub.token." + self.token.replace(":", "."))] if self.token else None
        )
        self._socket = await websockets.connect(self.url, origin=origin, subprotocols=subprotocols, max_size=None)
        first, *rest = str(await self._socket.recv()).split("\n")
        self.hello = json.loads(first)
        self._reported = {}
        for stream, position in (self.hello.get("positions") or {}).items():
            self._report(stream, position)
        for text in rest:
            self._take(json.loads(text))
        self._reader = asyncio.create_task(self._read(self._socket))
        self._connected.set()
        return self.hello

    async def close(self) -> None:
        """Close the socket and stop reconnecting."""
        self._closing = True
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def subscribe(self, topic: str, since: str | None = None, presence: bool = False) -> dict[str, Any]:
        """Subscribe to ``topic`` (with ``presence``, ask for its presence too); return ``subscribed`` or raise HubError."""
        frame: dict[str, Any] = {"type": "subscribe", "topic": topic}
        if since is not None:
            frame["since"] = self.last_ids[topic] = since  # the replay from there moves it on
        if presence:
            frame["presence"] = True
            self._presence.setdefault(topic, _Presence())
        reply = await self.request(frame)
        self.topics.add(topic)
        return reply

    async def unsubscribe(self, topic: str) -> dict[str, Any]:
        """Unsubscribe from ``topic``; return the ``unsubscribed`` frame or raise HubError."""
        self.topics.discard(topic)
        self.last_ids.pop(topic, None)
        self._reported.pop(topic, None)
        self._presence.pop(topic, None)
        return await self.request({"type": "unsubscribe", "topic": topic})

    def presence(self, topic: str) -> dict[str, Any] | None:
        """Return ``{"members": [...], "visitors": N}`` of ``topic`` as known now; None before its first snapshot."""
        known = self._presence.get(topic)
        return known.view() if known is not None and known.ready else None

    def on_presence(self, topic: str, callback: Callable[[dict[str, Any], dict[str, Any]], None]) -> None:
        """Call ``callback(state, frame)`` whenever ``topic``'s presence changes (subscribe with ``presence=True``)."""
        self._presence.setdefault(topic, _Presence()).callbacks.append(callback)

    async def publish(self, topic: str, event: str, data: Any = None) -> dict[str, Any]:
        """Publish to a topic that allows it; return the ``published`` frame or raise HubError."""
        return await self.request({"type": "publish", "topic": topic, "event": event, "data": data})

    async def ping(self) -> dict[str, Any]:
        """Return the hub's ``pong``."""
        return await self.request({"type": "ping"})

    async def request(self, frame: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Send ``frame`` with a fresh ``ref``; return the reply or raise HubError on an error frame."""
        ref = next(self._refs)
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[ref] = waiter
        try:
            await self.send_raw(json.dumps({**frame, "ref": ref}))
            reply = await asyncio.wait_for(waiter, timeout)
        finally:
            self._waiting.pop(ref, None)
        if reply.get("type") == "error":
            raise HubError(reply)
        return reply

    async def send_raw(self, text: str | bytes) -> None:
        """Send a frame as is (tests use it to send bad frames)."""
        await self._connected.wait()
        await self._socket.send(text)

    async def next_frame(self, timeout: float = 10.0) -> dict[str, Any]:
        """Return the next frame that answered no request (events, errors without ref...)."""
        return await asyncio.wait_for(self.frames.get(), timeout)

    async def next_event(self, timeout: float = 10.0) -> dict[str, Any]:
        """Return the next ``event`` frame, skipping other unsolicited frames."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.next_frame(max(0.0, deadline - loop.time()))
            if frame.get("type") == "event":
                return frame

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Yield ``event`` frames for ever (across reconnects)."""
        while True:
            frame = await self.frames.get()
            if frame.get("type") == "event":
                yield frame

    async def __aenter__(self) -> HubClient:
        await self.connect()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _take(self, frame: dict[str, Any]) -> None:
        """Track one frame from the hub, then hand it to whoever awaits its ``ref``, or queue it."""
        self._track(frame)
        waiter = self._waiting.get(frame.get("ref"))
        if waiter is not None and not waiter.done():
            waiter.set_result(frame)
        else:
            self.frames.put_nowait(frame)

    async def _read(self, socket: Any) -> None:
        try:
            async for message in socket:
                for text in str(message).split("\n"):
                    self._take(json.loads(text))
        except ConnectionClosed:
            pass
        self.close_code = socket.close_code
        self._connected.clear()
        if self.reconnect and not self._closing and self.close_code not in _FINAL_CLOSE_CODES:
            asyncio.create_task(self._reconnect())

    async def _reconnect(self) -> None:
        for attempt in itertools.count():
            delay = min(self.max_backoff, 0.2 * 2**attempt) * random.uniform(0.5, 1.0)
            await asyncio.sleep(delay)  # backoff between attempts, not a wait for an event
            try:
                await self.connect()
                for topic in sorted(self.topics):
                    await self._resubscribe(topic)
                return
            except (TimeoutError, OSError, ConnectionClosed, websockets.InvalidStatus) as error:
                logger.info("Reconnecting to the hub failed (%s); retrying", error)

    def _track(self, frame: dict[str, Any]) -> None:
        """Move the position of the stream ``frame`` is about (events, ``subscribed``, ``reset``); note presence."""
        kind, stream = frame.get("type"), frame.get("topic")
        if not isinstance(stream, str):
            return
        if kind in _PRESENCE_FRAMES and stream in self._presence:
            self._presence[stream].apply(frame)
        elif kind == "unsubscribed" and frame.get("reason"):
            self._presence.pop(stream, None)  # the user may no longer read it
        if kind == "event":
            self._advance(stream, frame.get("id"))
        elif kind == "subscribed":
            self._report(stream, frame.get("position"))
        elif kind == "reset" and stream in self._reported:
            # What this position pointed at is gone; the hub's own position of the stream is exact.
            self.last_ids[stream] = self._reported[stream]

    def _report(self, stream: str, position: Any) -> None:
        """Note the position the hub reported for ``stream``; it becomes ours if we hold none.

        A position we hold stays: the hub replays from it, and each replayed event moves it
        on, so a drop in the middle of the replay loses nothing.
        """
        if _sequence(position) is None:
            return
        self._reported[stream] = position
        self.last_ids.setdefault(stream, position)

    def _advance(self, stream: str, event_id: Any) -> None:
        """Make ``event_id`` the position of ``stream`` if it is later than the one held."""
        sequence = _sequence(event_id)
        held = _sequence(self.last_ids.get(stream))
        if sequence is not None and (held is None or sequence > held):
            self.last_ids[stream] = event_id

    async def _resubscribe(self, topic: str) -> None:
        frame: dict[str, Any] = {"type": "subscribe", "topic": topic}
        if topic in self.last_ids:
            frame["since"] = self.last_ids[topic]
        if topic in self._presence:
            frame["presence"] = True  # a new snapshot replaces what is known
        try:
            await self.request(frame)
        except HubError as error:
            logger.warning("Could not resubscribe to %s: %s", topic, error)
            self.topics.discard(topic)


def _sequence(event_id: Any) -> tuple[int, int] | None:
    """Return the two numbers of an event id ("<ms>-<n>"), for comparing ids; None if it is not one."""
    match = _EVENT_ID.fullmatch(event_id) if isinstance(event_id, str) else None
    return (int(match[1]), int(match[2])) if match else None


class _Presence:
    """A topic's presence as the frames tell it: a snapshot (its pages), then join, leave and visitors."""

    def __init__(self) -> None:
        self.members: dict[Any, dict[str, Any]] = {}
        self.visitors = 0
        self.ready = False
        self.callbacks: list[Callable[[dict[str, Any], dict[str, Any]], None]] = []
        self._pages: list[dict[str, Any]] = []

    def view(self) -> dict[str, Any]:
        """Return ``{"members": [...], "visitors": N}``."""
        return {"members": list(self.members.values()), "visitors": self.visitors}

    def apply(self, frame: dict[str, Any]) -> None:
        """Apply one presence frame; changes before the first snapshot are in it, and ignored."""
        kind = frame.get("type")
        if kind == "presence":
            if frame.get("page") == 1:
                self._pages = []
            self._pages.extend(frame.get("members") or [])
            if frame.get("page") != frame.get("pages"):
                return
            self.members = {member["id"]: member for member in self._pages}
            self.visitors, self.ready, self._pages = frame.get("visitors", 0), True, []
        elif not self.ready:
            return
        elif kind == "join":
            self.members[frame["member"]["id"]] = frame["member"]
        elif kind == "leave":
            self.members.pop(frame["member"]["id"], None)
        elif kind == "visitors":
            self.visitors = frame.get("count", 0)
        for callback in list(self.callbacks):
            try:
                callback(self.view(), frame)
            except Exception:  # a broken callback must not stop the reader
                logger.exception("A presence callback of %s failed", frame.get("topic"))
