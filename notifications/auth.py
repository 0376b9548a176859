"""Websocket authentication: a hub token or the Django session cookie.

A token comes in the ``Sec-WebSocket-Protocol`` header, where it stays out of access logs:
the client offers the subprotocols ``hub.v1`` and ``hub.token.<TOKEN with ":" as ".">``,
and the hub answers ``hub.v1``. ``?token=`` in the URL still works, for clients that can
set no header (it shows up in logs; docs/protocol.md says why not to).

One middleware instead of Channels' ``AuthMiddlewareStack`` plus a token middleware: each
of those four layers keeps its own copy of the scope and its own suspended frame for the
life of the socket (several KB per idle connection; docs/performance.md, "Memory"). The
scope gets the same keys (``cookies``, ``session``, ``user``), and a session's user is
checked as Channels' ``get_user`` checks it (the session's auth hash above all), but for all
the browsers of a moment at once (:func:`_read_session_users`).
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any
from urllib.parse import parse_qs

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model, load_backend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import ValidationError
from django.http import parse_cookie
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from notifications import tokens
from notifications.batching import Batch
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
        key = cookies.get(settings.SESSION_COOKIE_NAME)
        token = token_of(scope)
        if not token and key:
            session, user = await _session_users.get(key)
            return await self.inner(dict(scope, cookies=cookies, session=session, user=user), receive, send)
        scope = dict(scope, cookies=cookies, session=self.session_store(key))
        if not token:  # no session, so a visitor: no thread hop to find that out
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


def _read_session_users(keys: list[str]) -> dict[str, tuple[Any, Any]]:
    """Return session key -> (its session, its user or AnonymousUser, groups loaded).

    The browsers that connect at the same moment share one thread hop, one sessions query
    (database-backed engines), one users query (``ModelBackend`` and backends that keep
    its ``get_user``) and one groups query. Each user is checked as Channels' ``get_user``
    checks it: a listed backend, an active user, the session's auth hash (else the session
    is flushed). Connections that present the same cookie at the same moment share the
    session and user objects, as token connects of one user do: the hub reads them only.
    """
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    stores = {key: store_class(key) for key in keys}
    _load_sessions(store_class, list(stores.values()))
    claims = {key: _login_of(store) for key, store in stores.items()}
    backends = {path: load_backend(path) for _user_id, path in filter(None, claims.values())}
    ids = {user_id for user_id, path in filter(None, claims.values()) if _finds_as_model_backend(backends[path])}
    users = {user.pk: user for user in get_user_model()._default_manager.filter(pk__in=ids)} if ids else {}
    found = {key: (store, _checked_user(store, claims[key], backends, users)) for key, store in stores.items()}
    load_group_ids(user for _store, user in found.values() if user.is_authenticated)
    return found


def _login_of(session: Any) -> tuple[Any, str] | None:
    """Return the (user id, backend path) a session was logged in with, or None."""
    try:
        user_id = get_user_model()._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except (KeyError, ValidationError):
        return None
    return (user_id, backend_path) if backend_path in settings.AUTHENTICATION_BACKENDS else None


def _finds_as_model_backend(backend: Any) -> bool:
    """Tell whether ``backend`` finds users with ``ModelBackend.get_user`` (then one query serves a batch)."""
    return getattr(backend.get_user, "__func__", None) is ModelBackend.get_user


def _checked_user(session: Any, claim: tuple[Any, str] | None, backends: dict[str, Any], users: dict[Any, Any]) -> Any:
    """Return the session's user if its backend still finds it and its auth hash matches, else AnonymousUser."""
    if claim is None:
        return AnonymousUser()
    user_id, path = claim
    backend = backends[path]
    user: Any
    if _finds_as_model_backend(backend):
        user = users.get(user_id)
        user = user if user is not None and backend.user_can_authenticate(user) else None
    else:
        user = backend.get_user(user_id)
    if hasattr(user, "get_session_auth_hash"):
        session_hash = session.get(HASH_SESSION_KEY)
        if not (session_hash and constant_time_compare(session_hash, user.get_session_auth_hash())):
            session.flush()
            user = None
    return user or AnonymousUser()


_session_users: Batch[str, tuple[Any, Any]] = Batch(_read_session_users)


_DB_READS = (DatabaseSessionStore.load, getattr(DatabaseSessionStore, "_get_session_from_db", None))


def _load_sessions(store_class: Any, stores: list[Any]) -> None:
    """Load database-backed sessions in one query, as each store's ``load()`` would one by one.

    Other engines (cache, signed cookies, ``cached_db``'s cache first) and database stores
    that change how a session is read load themselves on first use.
    """
    reads = (store_class.load, getattr(store_class, "_get_session_from_db", None))
    if not (issubclass(store_class, DatabaseSessionStore) and reads == _DB_READS):
        return
    by_key = {store.session_key: store for store in stores if store.session_key is not None}
    if not by_key:
        return
    model = stores[0].model
    rows = model.objects.filter(session_key__in=list(by_key), expire_date__gt=timezone.now())
    found = {row.session_key: row.session_data for row in rows}
    for key, store in by_key.items():
        data = found.get(key)
        if data is None:  # gone or expired: what the store's own load() does then
            store._session_key = None
            store._session_cache = {}
        else:
            store._session_cache = store.decode(data)


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
