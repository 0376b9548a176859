"""Hub tokens: minting, expiry, forgery and revocation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import Client, override_settings

from notifications import tokens
from notifications.exceptions import InvalidToken
from notifications.user_groups import known_group_ids

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


@pytest.mark.django_db(transaction=True)
def test_connects_at_once_share_one_read_and_revoked_tokens_are_still_refused(
    django_user_model: Any, django_assert_num_queries: Any
) -> None:
    """Ten token connects at once cost one user query and one groups query; a revoked token is refused."""
    from django.contrib.auth.models import Group

    users = [django_user_model.objects.create_user("user0", password="x")]
    minted = [tokens.mint(users[0])]
    users += [django_user_model.objects.create_user(f"user{n}", password="x") for n in range(1, 10)]
    minted += [tokens.mint(user) for user in users[1:]]
    staff, editors = Group.objects.create(name="staff"), Group.objects.create(name="editors")
    users[2].groups.add(staff, editors)
    tokens.revoke(users[0])  # well after its token was minted (a token's time is rounded to the millisecond)

    async def connect_all() -> list[Any]:
        return await asyncio.gather(*(tokens.aread(token) for token in minted), return_exceptions=True)

    with django_assert_num_queries(2):
        grants = async_to_sync(connect_all)()
    assert isinstance(grants[0], InvalidToken) and "revoked" in str(grants[0])
    assert [grant.user for grant in grants[1:]] == users[1:]
    assert known_group_ids(grants[1].user) == []
    assert sorted(known_group_ids(grants[2].user) or []) == sorted([staff.pk, editors.pk])


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
