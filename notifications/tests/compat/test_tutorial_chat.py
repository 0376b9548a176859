"""The Channels tutorial's chat consumer (part 3), unchanged, on HubChannelLayer."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import re_path
from redis import asyncio as aioredis

from notifications.embedded_redis import EmbeddedRedis

PREFIX = "tutorial"


class ChatConsumer(AsyncWebsocketConsumer):
    """The tutorial's consumer: one group per room, every message relayed to the room."""

    async def connect(self) -> None:
        """Join the room's group, then accept."""
        self.room_name = self.scope["url_route"]["kwargs"]["room_name"]
        self.room_group_name = f"chat_{self.room_name}"

        # Join room group
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)

        await self.accept()

    async def disconnect(self, close_code: int) -> None:
        """Leave the room's group."""
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

    # Receive message from WebSocket
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Send a client's message to the room's group."""
        text_data_json = json.loads(text_data or "")
        message = text_data_json["message"]

        # Send message to room group
        await self.channel_layer.group_send(self.room_group_name, {"type": "chat.message", "message": message})

    # Receive message from room group
    async def chat_message(self, event: dict) -> None:
        """Relay a room message to the client."""
        message = event["message"]

        # Send message to WebSocket
        await self.send(text_data=json.dumps({"message": message}))


application = URLRouter([re_path(r"ws/chat/(?P<room_name>\w+)/$", ChatConsumer.as_asgi())])


async def _exchange(sender: WebsocketCommunicator, everyone: list[WebsocketCommunicator], text: str) -> None:
    """Send ``text`` from ``sender``; check that every member of the room receives it."""
    await sender.send_to(text_data=json.dumps({"message": text}))
    for communicator in everyone:
        assert json.loads(await communicator.receive_from(timeout=5)) == {"message": text}


async def _wait_until_subscribed(url: str, channel: str, timeout: float = 10.0) -> None:
    """Poll Redis until something listens on ``channel`` again (it gives no other signal)."""
    client = aioredis.Redis.from_url(url)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while dict(await client.pubsub_numsub(channel)).get(channel.encode(), 0) == 0:
            assert loop.time() < deadline, f"nothing subscribed to {channel} again"
            await asyncio.sleep(0.05)  # polling Redis, bounded by the deadline
    finally:
        await client.aclose()


# Channels closes old database connections around each handler, from its sync thread.
@pytest.mark.django_db
async def test_the_tutorial_chat_works_across_a_redis_restart(tmp_path: Path, settings: Any) -> None:
    """Two clients in a room chat, Redis restarts under them, they chat again; no consumer crashed."""
    redis = EmbeddedRedis(tmp_path / "redis")
    url = redis.start()
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "notifications.layers.HubChannelLayer", "CONFIG": {"hosts": [url], "prefix": PREFIX}}
    }
    alice = WebsocketCommunicator(application, "/ws/chat/lobby/")
    bob = WebsocketCommunicator(application, "/ws/chat/lobby/")
    try:
        assert (await alice.connect())[0] and (await bob.connect())[0]
        await _exchange(alice, [alice, bob], "hello")
        redis.stop()
        redis.start()
        await _wait_until_subscribed(url, f"{PREFIX}__group__chat_lobby")
        await _exchange(bob, [alice, bob], "still here")
        await _exchange(alice, [alice, bob], "yes")
        # A hub.resync or hub.overflow would have crashed a consumer: "No handler for message type".
        assert not alice.future.done() and not bob.future.done()
        await alice.disconnect()
        await bob.disconnect()
    finally:
        await get_channel_layer().flush()
        redis.stop()
