"""Websocket routing: one multiplexed socket per page at ``/ws/``."""

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import path

from notifications.auth import TokenAuthMiddleware
from notifications.consumer import HubConsumer
from notifications.origin import SameSiteOriginValidator

websocket_urlpatterns = [
    path("ws/", HubConsumer.as_asgi()),
]

websocket_application = SameSiteOriginValidator(
    AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns)))
)
