"""Signed, expiring tokens that let scripts and other non-browser clients connect as a user.

A token dies when it expires (``HUB_TOKEN_MAX_AGE``), when its user's password changes,
when the user is deactivated or deleted, and when its user's tokens are revoked
(``manage.py hub_token --revoke USERNAME``, :func:`revoke`). Revocations live in Redis
for ``HUB_TOKEN_MAX_AGE`` seconds, after which every older token has expired anyway.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing

from notifications import redis_client
from notifications.batching import Batch
from notifications.conf import hub_settings
from notifications.exceptions import InvalidToken
from notifications.user_groups import load_group_ids

__all__ = ["Grant", "aread", "mint", "read", "revoke", "revoked_since", "user_for"]

_SALT = "notifications.tokens"


@dataclass(frozen=True)
class Grant:
    """What a valid token grants: its user, and when it was minted (seconds since the epoch)."""

    user: Any
    issued: float


def mint(user: Any) -> str:
    """Return a token for ``user``, valid for HUB_TOKEN_MAX_AGE seconds or until revoked."""
    return signing.dumps({"u": user.pk, "h": password_mark(user), "t": round(time.time(), 3)}, salt=_SALT)


def read(token: str) -> Grant:
    """Return what ``token`` grants; raise InvalidToken if it is forged, expired, revoked or its user changed."""
    claims = _claims(token)
    user = get_user_model()._default_manager.filter(pk=claims["u"], is_active=True).first()
    return _grant(claims, user, revoked_since(claims["u"]) if user is not None else 0.0)


async def aread(token: str) -> Grant:
    """Return what ``token`` grants, as :func:`read` does; the connects of the same moment share one read.

    The user comes with its groups loaded (``notifications.user_groups.known_group_ids``).
    """
    claims = _claims(token)
    user, revoked = await _users.get(claims["u"])
    return _grant(claims, user, revoked)


def _claims(token: str) -> dict[str, Any]:
    """Return the token's checked claims; raise InvalidToken if it is forged or expired."""
    try:
        claims = signing.loads(token, salt=_SALT, max_age=hub_settings.HUB_TOKEN_MAX_AGE)
    except signing.SignatureExpired as error:
        raise InvalidToken("token expired") from error
    except signing.BadSignature as error:
        raise InvalidToken("token is malformed or forged") from error
    if not isinstance(claims, dict) or not isinstance(claims.get("u"), int):
        raise InvalidToken("token is malformed or forged")
    return claims


def _grant(claims: dict[str, Any], user: Any, revoked: float) -> Grant:
    """Return the grant of checked ``claims`` for ``user`` (None: gone or inactive), revoked at ``revoked``."""
    if user is None or claims.get("h") != password_mark(user):
        raise InvalidToken("token's user is gone, inactive or changed password")
    issued = float(claims.get("t") or 0)
    if issued <= revoked:
        raise InvalidToken("token was revoked")
    return Grant(user, issued)


def _read_users(user_ids: list[int]) -> dict[int, tuple[Any, float]]:
    """Return user id -> (the active user with its groups, or None; when its tokens were revoked)."""
    users = {user.pk: user for user in get_user_model()._default_manager.filter(pk__in=user_ids, is_active=True)}
    load_group_ids(users.values())
    revoked = redis_client.client().mget([_revoked_key(user_id) for user_id in user_ids])
    return {
        user_id: (users.get(user_id), float(raw) if raw else 0.0)
        for user_id, raw in zip(user_ids, revoked, strict=True)
    }


_users: Batch[int, tuple[Any, float]] = Batch(_read_users)


def user_for(token: str) -> Any:
    """Return the active user ``token`` was minted for; raise InvalidToken otherwise."""
    return read(token).user


def revoke(user: Any) -> None:
    """Revoke every token of ``user`` minted until now; open token connections close (4001)."""
    from notifications import publish

    user_id = getattr(user, "pk", user)
    key = _revoked_key(user_id)
    redis_client.client().set(key, repr(time.time()), ex=hub_settings.HUB_TOKEN_MAX_AGE)
    publish.recheck_rights(user_id)


def revoked_since(user_id: int) -> float:
    """Return when ``user_id``'s tokens were last revoked (0 if never, or long enough ago)."""
    raw = redis_client.client().get(_revoked_key(user_id))
    return float(raw) if raw else 0.0


def password_mark(user: Any) -> str:
    """Return the part of the user's session auth hash a token carries: it changes with the password."""
    return user.get_session_auth_hash()[:12]


def _revoked_key(user_id: int) -> str:
    return f"{redis_client.prefix()}:tokens:revoked:{int(user_id)}"
