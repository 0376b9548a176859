"""Hub tokens: minting, expiry, forgery and revocation."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from notifications import tokens
from notifications.exceptions import InvalidToken

pytestmark = pytest.mark.django_db


def test_token_round_trip(django_user_model: Any) -> None:
    """A minted token names its user."""
    alice = django_user_model.objects.create_user("alice", password="x")
    assert tokens.user_for(tokens.mint(alice)) == alice


def test_expired_forged_and_revoked_tokens_are_refused(django_user_model: Any) -> None:
    """Expired, forged, inactive-user and changed-password tokens raise InvalidToken."""
    alice = django_user_model.objects.create_user("alice", password="x")
    token = tokens.mint(alice)
    with override_settings(HUB_TOKEN_MAX_AGE=-1), pytest.raises(InvalidToken, match="expired"):
        tokens.user_for(token)
    with pytest.raises(InvalidToken, match="forged"):
        tokens.user_for(token + "x")
    alice.set_password("changed")
    alice.save()
    with pytest.raises(InvalidToken, match="changed password"):
        tokens.user_for(token)


def test_token_view_needs_a_login(django_user_model: Any) -> None:
    """The token view answers 401 to visitors and a token to users."""
    client = Client()
    refused = client.get("/hub/token/")
    assert refused.status_code == 401 and refused.json()["error"] == "not_authenticated"
    alice = django_user_model.objects.create_user("alice", password="x")
    client.force_login(alice)
    body = client.get("/hub/token/").json()
    assert tokens.user_for(body["token"]) == alice and body["expires_in"] == 3600


def test_hub_token_command(django_user_model: Any, capsys: Any) -> None:
    """manage.py hub_token prints a token; an unknown user is a clean error."""
    from django.core.management import CommandError, call_command

    alice = django_user_model.objects.create_user("alice", password="x")
    call_command("hub_token", "alice")
    assert tokens.user_for(capsys.readouterr().out.strip()) == alice
    with pytest.raises(CommandError, match="No active user 'nobody'"):
        call_command("hub_token", "nobody")
