"""The websocket auth middleware: session cookies found in batches, with get_user's own checks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import Group
from django.test import Client

from notifications.auth import HubAuthMiddleware
from notifications.user_groups import known_group_ids

pytestmark = pytest.mark.django_db(transaction=True)


def _signed_in(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _users_of(cookies: list[str]) -> list[Any]:
    """Run the middleware for one handshake per cookie, all at once; return the scopes' users."""
    seen: list[Any] = []

    async def inner(scope: dict, receive: Any, send: Any) -> None:
        seen.append(scope)

    middleware = HubAuthMiddleware(inner)

    async def connect_all() -> None:
        scopes = [{"type": "websocket", "headers": [(b"cookie", f"sessionid={key}".encode())]} for key in cookies]
        await asyncio.gather(*(middleware(scope, None, None) for scope in scopes))

    async_to_sync(connect_all)()
    by_cookie = {scope["headers"][0][1].decode().split("=", 1)[1]: scope["user"] for scope in seen}
    return [by_cookie[key] for key in cookies]


def test_browsers_connecting_at_once_share_the_session_and_group_queries(
    django_user_model: Any, django_assert_max_num_queries: Any
) -> None:
    """Ten browsers at once cost one sessions, one users and one groups query; groups come loaded."""
    users = [django_user_model.objects.create_user(f"user{n}", password="x") for n in range(10)]
    editors = Group.objects.create(name="editors")
    users[3].groups.add(editors)
    cookies = [_signed_in(user) for user in users]
    with django_assert_max_num_queries(3):  # not 30: a session, a user and a groups query each
        found = _users_of(cookies)
    assert found == users
    assert known_group_ids(found[3]) == [editors.pk] and known_group_ids(found[0]) == []


def test_a_session_that_is_gone_expired_forged_or_outdated_is_a_visitor(django_user_model: Any) -> None:
    """get_user's rules still hold in a batch: a changed password or a missing session means no user."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    names = ("alice", "bob", "carol", "dave")
    alice, bob, carol, dave = (django_user_model.objects.create_user(name, password="x") for name in names)
    kept, outdated, logged_out, expired = (_signed_in(user) for user in (alice, bob, carol, dave))
    bob.set_password("changed")
    bob.save()
    Session.objects.filter(session_key=logged_out).delete()
    Session.objects.filter(session_key=expired).update(expire_date=timezone.now())
    found = _users_of([kept, outdated, logged_out, expired, "not-a-session-key", "x" * 32])
    assert found[0] == alice
    assert [user.is_authenticated for user in found[1:]] == [False] * 5
