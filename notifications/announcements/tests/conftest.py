"""Fixtures and helpers of the announcement tests: the people of the audience matrix, clients, waits."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Group

from conftest import wait_for  # noqa: F401 (re-exported to this package's tests)
from notifications import publish, tokens
from notifications.client import HubClient

MARKER = "test.marker"


@pytest.fixture
def people(make_user: Any) -> dict[str, Any]:
    """Alice (signed in), Sam (staff), Eve (in "editors"), Bob (in no group), committed for Daphne."""
    editors = Group.objects.create(name="editors")
    eve = make_user("eve")
    eve.groups.add(editors)
    return {
        "visitor": None,
        "alice": make_user("alice"),
        "staff": make_user("sam", is_staff=True),
        "member": eve,
        "nonmember": make_user("bob"),
        "editors": editors,
    }


def client_for(live_hub: Any, user: Any = None) -> HubClient:
    """Return a hub client (not connected) for ``user``, or a visitor."""
    return HubClient(live_hub.ws_url, token=tokens.mint(user) if user else None, reconnect=False)


async def events_until_marker(client: HubClient, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Return the event frames that ``client`` receives before the next marker broadcast."""
    received = []
    while (frame := await client.next_event(timeout))["event"] != MARKER:
        received.append(frame)
    return received


async def send_marker() -> None:
    """Broadcast a marker to everyone: what a client got before it is all it will get."""
    await sync_to_async(publish.broadcast)(MARKER)
