"""The admin: saving pushes to the audience after commit, edits and actions update screens, counts show."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from notifications import metrics
from notifications.announcements import events, services
from notifications.announcements.models import Announcement
from notifications.announcements.tests.conftest import client_for, events_until_marker, send_marker, wait_for

ADD_URL = "/admin/announcements/announcement/add/"
LIST_URL = "/admin/announcements/announcement/"


def form(**fields: Any) -> dict[str, Any]:
    """Return the admin form's fields for a live announcement to everyone, with ``fields`` over them."""
    now = timezone.localtime()
    data = {
        "title": "Maintenance tonight", "body": "Back at **22:00**", "body_format": "markdown", "level": "warning",
        "dismissible": "on", "audience": "everyone", "groups": [], "users": [],
        "starts_at": now.strftime("%Y-%m-%dT%H:%M:%S"), "expires_at": "",
    }  # fmt: skip
    return {**data, **fields}


@pytest.fixture
def admin_browser(make_user: Any) -> Client:
    """A superuser signed in to the admin."""
    browser = Client()
    browser.force_login(make_user("root", is_staff=True, is_superuser=True))
    return browser


async def test_admin_save_edit_and_retract_reach_the_audience(
    live_hub: Any, people: dict, admin_browser: Client
) -> None:
    """Save: shown at once; edit to staff: updated for staff, hidden for the visitor; retract: hidden."""
    post = sync_to_async(admin_browser.post)
    async with client_for(live_hub) as visitor, client_for(live_hub, people["staff"]) as staff:
        response = await post(ADD_URL, form())
        assert response.status_code == 302, response.content.decode()[-2000:]
        announcement = await sync_to_async(Announcement.objects.get)()
        for client in (visitor, staff):
            event = await client.next_event()
            assert (event["event"], event["data"]["title"], event["data"]["level"]) == (
                "announcement.show", "Maintenance tonight", "warning",
            )  # fmt: skip
            assert event["data"]["body_html"] == "<p>Back at <strong>22:00</strong></p>"

        response = await post(
            f"{LIST_URL}{announcement.pk}/change/", form(title="Maintenance at 23:00", audience="staff")
        )
        assert response.status_code == 302
        edited = await staff.next_event()
        assert (edited["data"]["id"], edited["data"]["title"], edited["data"]["version"]) == (
            announcement.pk, "Maintenance at 23:00", 2,
        )  # fmt: skip
        lost = ("announcement.hide", {"id": announcement.pk, "version": 1})  # to everyone: version 1 goes
        for client in (visitor, staff):
            event = await client.next_event()
            assert (event["event"], event["data"]) == lost

        response = await post(LIST_URL, {"action": "retract", "_selected_action": [announcement.pk]})
        assert response.status_code == 302
        retracted = await staff.next_event()
        assert (retracted["event"], retracted["data"]) == ("announcement.hide", {"id": announcement.pk, "version": 3})
        await send_marker()
        assert await events_until_marker(visitor) == []


async def test_admin_list_shows_dismissals_and_connections_reached(
    live_hub: Any, people: dict, admin_browser: Client
) -> None:
    """The list says how many users dismissed it and to how many open connections it was sent."""
    announcement = await sync_to_async(services.create_announcement)(title="Counted", audience="authenticated")
    clients = [client_for(live_hub, people[name]) for name in ("alice", "staff", "member")]
    for client in clients:
        await client.connect()
        assert (await client.next_event())["data"]["id"] == announcement.pk
        await client.close()
    for name in ("alice", "member"):
        await sync_to_async(services.dismiss)(announcement=announcement, user=people[name])
    key = events.receipt_key(announcement)
    await sync_to_async(wait_for)(lambda: metrics.receipts(key) >= 3)
    page = (await sync_to_async(admin_browser.get)(LIST_URL)).content.decode()
    assert "2 users" in page and "3 connections (v1)" in page and "signed-in users" in page and "live" in page


@pytest.mark.django_db
def test_admin_refuses_nobody_chosen_and_expiry_before_start(admin_client: Client) -> None:
    """The form names the problem and nothing is saved or pushed."""
    response = admin_client.post(ADD_URL, form(audience="chosen"))
    assert "Choose at least one group or user" in response.content.decode()
    yesterday = (timezone.localtime() - datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    response = admin_client.post(ADD_URL, form(expires_at=yesterday + "T00:00:00"))
    assert "The expiry must be after the start." in response.content.decode()
    assert not Announcement.objects.exists()
