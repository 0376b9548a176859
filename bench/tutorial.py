"""The Channels-tutorial approach, for comparison: a consumer per socket joins a group on the
core ``RedisChannelLayer`` (defaults) and ``json.dumps`` each message once per connection."""

import json

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.urls import path

GROUP = "bench"


class TutorialConsumer(AsyncWebsocketConsumer):
    """The tutorial's chat consumer, reduced to receiving."""

    async def connect(self) -> None:
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def bench_message(self, event: dict) -> None:
        await self.send(text_data=json.dumps({"message": event["message"]}))


django_app = get_asgi_application()
application = ProtocolTypeRouter(
    {"http": django_app, "websocket": URLRouter([path("ws/tutorial/", TutorialConsumer.as_asgi())])}
)
