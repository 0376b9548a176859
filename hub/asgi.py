"""ASGI entry point: HTTP goes to Django, websockets to the hub (``notifications.asgi``)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.local")
# Django must be set up before anything imports models, so this comes first.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from notifications.asgi import websocket_app  # noqa: E402

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_app()})
