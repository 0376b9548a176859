"""Websocket routes of the hub, for projects that compose their own websocket stack.

Most projects use :func:`notifications.asgi.websocket_app`, which wraps these routes in
the hub's origin and authentication checks.
"""

from django.urls import path

from notifications.consumer import HubConsumer

__all__ = ["websocket_urlpatterns"]

# One multiplexed socket per page.
websocket_urlpatterns = [
    path("ws/", HubConsumer.as_asgi()),
]
