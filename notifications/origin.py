"""Refuses websockets opened by pages of other sites."""

from __future__ import annotations

from typing import Any

from channels.security.websocket import OriginValidator
from django.conf import settings


class SameSiteOriginValidator(OriginValidator):
    """Like Channels' ``AllowedHostsOriginValidator``, but lets clients without an Origin in.

    Browsers always send ``Origin`` on a websocket handshake, so a missing one means a
    script or a server-side client, which cannot be a cross-site page riding on cookies.
    """

    def __init__(self, application: Any):
        allowed = list(settings.ALLOWED_HOSTS)
        if settings.DEBUG and not allowed:
            allowed = [".localhost", "127.0.0.1", "[::1]"]
        super().__init__(application, allowed)

    def valid_origin(self, parsed_origin: Any) -> bool:
        """Accept no Origin at all, or one whose host is in ALLOWED_HOSTS."""
        return parsed_origin is None or self.validate_origin(parsed_origin)
