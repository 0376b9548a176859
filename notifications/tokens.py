"""Signed, expiring tokens that let scripts and other non-browser clients connect as a user."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing

from notifications.conf import hub_settings
from notifications.exceptions import InvalidToken

__all__ = ["mint", "user_for"]

_SALT = "notifications.tokens"


def mint(user: Any) -> str:
    """Return a token for ``user``, valid for HUB_TOKEN_MAX_AGE seconds or until the password changes."""
    return signing.dumps({"u": user.pk, "h": _password_mark(user)}, salt=_SALT)


def user_for(token: str) -> Any:
    """Return the active user ``token`` was minted for; raise InvalidToken otherwise."""
    try:
        claims = signing.loads(token, salt=_SALT, max_age=hub_settings.HUB_TOKEN_MAX_AGE)
    except signing.SignatureExpired as error:
        raise InvalidToken("token expired") from error
    except signing.BadSignature as error:
        raise InvalidToken("token is malformed or forged") from error
    user = get_user_model()._default_manager.filter(pk=claims.get("u"), is_active=True).first()
    if user is None or claims.get("h") != _password_mark(user):
        raise InvalidToken("token's user is gone, inactive or changed password")
    return user


def _password_mark(user: Any) -> str:
    # A password change changes the session auth hash, and so revokes older tokens.
    return user.get_session_auth_hash()[:12]
