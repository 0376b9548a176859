"""The hub's websocket application, for the host project's ``asgi.py``::

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()  # first: it sets Django up

from channels.routing import ProtocolTypeRouter
from notifications.asgi import websocket_app

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_app()})
"""

from __future__ import annotations

from typing import Any

from channels.routing import URLRouter

from notifications import collector
from notifications.auth import HubAuthMiddleware
from notifications.conf import hub_settings
from notifications.origin import SameSiteOriginValidator
from notifications.routing import websocket_urlpatterns

__all__ = ["websocket_app"]


def websocket_app(*, tune_gc: bool = True) -> Any:
    """Return the hub's websocket stack at ``/ws/``: origin check, authentication, the consumer.

    It also tunes this server process's garbage collector (``HUB_GC_THRESHOLD``;
    docs/performance.md, "Garbage collector"), as only server processes call it (tests pass ``tune_gc=False``).
    """
    if tune_gc:
        collector.tune(hub_settings.HUB_GC_THRESHOLD)
    return SameSiteOriginValidator(HubAuthMiddleware(URLRouter(websocket_urlpatterns)))
