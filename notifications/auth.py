"""Websocket authentication: a hub token or the Django session cookie.

A token comes in the ``Sec-WebSocket-Protocol`` header, where it stays out of access logs:
the client offers the subprotocols ``hub.v1`` and ``hub.token.<TOKEN with ":" as ".">``,
and the hub answers ``hub.v1``. ``?token=`` in the URL still works, for clients that can
set no header (it shows up in logs; docs/protocol.md says why not to).

One middleware instead of Channels' ``AuthMiddlewareStack`` plus a token middleware: each
of those four layers keeps its own copy of the scope and its own suspended frame for the
life of the socket (several KB per idle connection; docs/performance.md, "Memory"). The
scope gets the same keys (``cookies``, ``session``, ``user``) and the user is still found
by Channels' ``get_user``, which checks the session's auth hash.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any
from urllib.parse import parse_qs

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import parse_cookie

from notifications import tokens
from notifications.exceptions import InvalidToken
from notifications.user_groups import load_group_ids

logger = logging.getLogger(__name__)


class HubAuthMiddleware:
    """Sets ``scope["cookies"]``, ``["session"]`` and ``["user"]``; refuses the handshake for a bad token."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        cookies = _cookies(scope)
        scope = dict(scope, cookies=cookies, session=self.session_store(cookies.get(settings.SESSION_COOKIE_NAME)))
        token = token_of(scope)
        if not token:
            if settings.SESSION_COOKIE_NAME in cookies:
                scope["user"] = await _session_user(scope)
            else:  # no session, so a visitor: no thread hop to find that out
                scope["user"] = AnonymousUser()
            return await self.inner(scope, receive, send)
        try:
            grant = await tokens.aread(token)
        except InvalidToken as error:
            logger.info("Refused a websocket with a bad token: %s", error)
            return await WebsocketDenier()(scope, receive, send)
        scope["user"] = grant.user
        scope["hub_token"] = grant.issued  # when the token was minted: revocations after it close the socket
        return await self.inner(scope, receive, send)


@database_sync_to_async
def _session_user(scope: dict) -> Any:
    """Return the session's user as Channels' ``get_user`` finds it, with its groups loaded, in one thread hop."""
    user = get_user.func(scope)  # get_user's own code, in this thread: the auth hash check included
    if user.is_authenticated:
        load_group_ids([user])  # for the standing streams: no second hop
    return user


SUBPROTOCOL = "hub.v1"
_TOKEN_PROTOCOL = "hub.token."


def token_of(scope: dict) -> str | None:
    """Return the hub token a handshake carries: in the subprotocols, else ``?token=``; None without one."""
    for offered in scope.get("subprotocols") or ():
        if offered.startswith(_TOKEN_PROTOCOL):
            return offered[len(_TOKEN_PROTOCOL) :].replace(".", ":")
    found = parse_qs(scope.get("query_string", b"").decode("latin1")).get("token")
    return found[0] if found else None


def _cookies(scope: dict) -> dict[str, str]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            return parse_cookie(value.decode("latin1"))
    return {}
