"""Dismissing: remembered per user, synced to their other tabs, kept across reconnects; refusals named."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from notifications.announcements import services
from notifications.announcements.models import Announcement, AnnouncementDismissal
from notifications.announcements.tests.conftest import client_for, events_until_marker, send_marker


def signed_in(user: Any) -> Client:
    """Return a browser-like client of ``user`` that enforces CSRF and holds its csrftoken cookie."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    browser.get("/")  # the banner renders {{ csrf_token }}: the cookie is set
    return browser


def dismiss(browser: Client, pk: int, token: str | None) -> Any:
    headers = {"HTTP_ACCEPT": "application/json"}
    if token is not None:
        headers["HTTP_X_CSRFTOKEN"] = token
    return browser.post(f"/announcements/{pk}/dismiss/", **headers)


async def test_dismiss_reaches_the_other_tab_and_survives_a_reconnect(live_hub: Any, people: dict) -> None:
    """Dismissed in one tab: both tabs hear it, a new connection and a new page no longer show it."""
    alice, bob = people["alice"], people["nonmember"]
    announcement = await sync_to_async(services.create_announcement)(title="new terms", audience="authenticated")
    async with client_for(live_hub, alice) as tab1, client_for(live_hub, alice) as tab2:
        for tab in (tab1, tab2):
            assert (await tab.next_event())["data"]["id"] == announcement.pk  # on connect
        browser = await sync_to_async(signed_in)(alice)
        refused = await sync_to_async(dismiss)(browser, announcement.pk, None)
        assert refused.status_code == 403  # no CSRF token
        answer = await sync_to_async(dismiss)(browser, announcement.pk, browser.cookies["csrftoken"].value)
        assert answer.json() == {"id": announcement.pk, "dismissed": True, "remembered": "account"}
        for tab in (tab1, tab2):
            event = await tab.next_event()
            assert (event["event"], event["data"], event["topic"]) == (
                "announcement.dismissed", {"id": announcement.pk}, f"user.{alice.pk}",
            )  # fmt: skip

    async with client_for(live_hub, alice) as reconnected, client_for(live_hub, bob) as other_user:
        await send_marker()
        assert await events_until_marker(reconnected) == []
        assert [frame["data"]["id"] for frame in await events_until_marker(other_user)] == [announcement.pk]
    page = (await sync_to_async(browser.get)("/")).content.decode()
    assert f'data-announcement-id="{announcement.pk}"' not in page
    assert await sync_to_async(AnnouncementDismissal.objects.filter(user=alice).count)() == 1


@pytest.mark.django_db
def test_dismiss_refusals_are_named(django_user_model: Any) -> None:
    """Not dismissible: 409; not for this user or unknown: 404; GET: 405; a visitor's is kept by the browser."""
    eve = django_user_model.objects.create_user("eve")
    fixed = services.create_announcement(title="fixed", dismissible=False)
    staff_only = services.create_announcement(title="staff only", audience=Announcement.Audience.STAFF)
    public = services.create_announcement(title="public")
    browser = Client()
    browser.force_login(eve)
    json = {"HTTP_ACCEPT": "application/json"}
    assert browser.post(f"/announcements/{fixed.pk}/dismiss/", **json).json()["error"] == "not_dismissible"
    assert browser.post(f"/announcements/{fixed.pk}/dismiss/", **json).status_code == 409
    assert browser.post(f"/announcements/{staff_only.pk}/dismiss/", **json).json()["error"] == "not_found"
    assert browser.post("/announcements/999999/dismiss/", **json).status_code == 404
    assert browser.get(f"/announcements/{public.pk}/dismiss/").status_code == 405
    visitor = Client().post(f"/announcements/{public.pk}/dismiss/", **json)
    assert visitor.json() == {"id": public.pk, "dismissed": True, "remembered": "browser"}
    assert not AnnouncementDismissal.objects.exists()


@pytest.mark.django_db
def test_a_form_post_without_javascript_dismisses_and_goes_back(django_user_model: Any) -> None:
    """The banner's plain form dismisses for a signed-in user and redirects to the page (never off-site)."""
    eve = django_user_model.objects.create_user("eve")
    public = services.create_announcement(title="public")
    browser = Client()
    browser.force_login(eve)
    assert browser.post(f"/announcements/{public.pk}/dismiss/", {"next": "/chat/lobby/"}).url == "/chat/lobby/"
    assert browser.post(f"/announcements/{public.pk}/dismiss/", {"next": "https://evil.example/"}).url == "/"
    assert AnnouncementDismissal.objects.filter(user=eve, announcement=public).count() == 1
    assert browser.get("/announcements/active/").json() == {"announcements": []}
