"""Websocket routing: one multiplexed socket per page at ``/ws/``."""

from channels.routing import URLRouter
from django.urls import path

from notifications.auth import HubAuthMiddleware
from notifications.consumer import HubConsumer
from notifications.origin import SameSiteOriginValidator

websocket_urlpatterns = [
    path("ws/", HubConsumer.as_asgi()),
]

websocket_application = SameSiteOriginValidator(HubAuthMiddleware(URLRouter(websocket_urlpatterns)))
