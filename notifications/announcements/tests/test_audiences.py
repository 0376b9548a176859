"""The audience matrix with real websocket clients against Daphne: live pushes and on connect."""

from __future__ import annotations

import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.utils import timezone

from notifications.announcements import services
from notifications.announcements.models import Announcement
from notifications.announcements.tests.conftest import client_for, events_until_marker, send_marker

# Who should see which announcement (titles), in the order they are posted.
EXPECTED = {
    "visitor": ["to everyone"],
    "alice": ["to everyone", "to signed-in", "to alice"],
    "staff": ["to everyone", "to signed-in", "to staff"],
    "member": ["to everyone", "to signed-in", "to editors"],
    "nonmember": ["to everyone", "to signed-in"],
}


def post_matrix(people: dict[str, Any]) -> dict[str, Announcement]:
    """Post one announcement per kind of audience; return them by title."""
    Audience = Announcement.Audience
    made = [
        services.create_announcement(title="to everyone", audience=Audience.EVERYONE),
        services.create_announcement(title="to signed-in", audience=Audience.AUTHENTICATED),
        services.create_announcement(title="to staff", audience=Audience.STAFF),
        services.create_announcement(title="to editors", audience=Audience.CHOSEN, groups=[people["editors"]]),
        services.create_announcement(title="to alice", audience=Audience.CHOSEN, users=[people["alice"]]),
    ]
    return {announcement.title: announcement for announcement in made}


async def test_live_announcements_reach_exactly_their_audience(live_hub: Any, people: dict) -> None:
    """Each of visitor, user, staff, group member and non-member gets exactly its announcements, at once."""
    clients = {name: client_for(live_hub, people[name]) for name in EXPECTED}
    for client in clients.values():
        await client.connect()
    made = await sync_to_async(post_matrix)(people)
    await send_marker()
    streams = {
        "to everyone": "broadcast.everyone",
        "to signed-in": "broadcast.authenticated",
        "to staff": "broadcast.staff",
        "to editors": f"broadcast.group.{people['editors'].pk}",
        "to alice": f"user.{people['alice'].pk}",
    }
    for name, client in clients.items():
        received = await events_until_marker(client)
        assert [frame["data"]["title"] for frame in received] == EXPECTED[name], name
        for frame in received:
            title = frame["data"]["title"]
            assert frame["event"] == "announcement.show" and frame["topic"] == streams[title]
            assert frame["data"]["id"] == made[title].pk and frame["data"]["version"] == 1
        await client.close()


async def test_new_connections_get_exactly_their_active_announcements(live_hub: Any, people: dict) -> None:
    """A connection opened after posting gets the live announcements for its user, right after hello."""
    await sync_to_async(post_matrix)(people)
    await sync_to_async(services.create_announcement)(title="expired", expires_at=_past(), starts_at=_past(60))
    for name, expected in EXPECTED.items():
        async with client_for(live_hub, people[name]) as client:
            await send_marker()
            received = await events_until_marker(client)
        assert {frame["event"] for frame in received} <= {"announcement.show"}, name
        assert sorted(frame["data"]["title"] for frame in received) == sorted(expected), name


def _past(minutes: float = 1) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(minutes=minutes)
