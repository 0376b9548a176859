"""Websocket authentication by hub token (``?token=...``), on top of Django sessions."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import WebsocketDenier

from notifications import tokens
from notifications.exceptions import InvalidToken

logger = logging.getLogger(__name__)


class TokenAuthMiddleware(BaseMiddleware):
    """Sets ``scope["user"]`` from a ``token`` query parameter; refuses the handshake if it is bad."""

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        token = parse_qs(scope.get("query_string", b"").decode("latin1")).get("token")
        if not token:
            return await super().__call__(scope, receive, send)
        try:
            user = await database_sync_to_async(tokens.user_for)(token[0])
        except InvalidToken as error:
            logger.info("Refused a websocket with a bad token: %s", error)
            return await WebsocketDenier()(scope, receive, send)
        scope = dict(scope, user=user, hub_token=True)
        return await super().__call__(scope, receive, send)
