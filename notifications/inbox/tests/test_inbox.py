"""The inbox: stored notifications, pushes, read state over the socket and HTTP, paging, retention."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from notifications import tokens
from notifications.client import HubClient, HubError
from notifications.exceptions import PublishError
from notifications.inbox import services
from notifications.inbox.models import Notification


def client_for(live_hub: Any, user: Any = None) -> HubClient:
    return HubClient(live_hub.ws_url, token=tokens.mint(user) if user else None, reconnect=False)


async def test_notify_stores_and_pushes_with_the_unread_count(live_hub: Any, make_user: Any) -> None:
    """notify() writes a row and the user's tabs get it with the new unread count."""
    alice = await sync_to_async(make_user)("alice")
    async with client_for(live_hub, alice) as tab:
        await sync_to_async(services.notify)(alice, "Invoice paid", body="#42", url="/invoices/42/", level="success")
        event = await tab.next_event()
    assert event["event"] == "notification.new" and event["data"]["unread"] == 1
    stored = await sync_to_async(Notification.objects.get)(user=alice)
    assert event["data"]["notification"] == services.as_payload(stored)
    assert event["data"]["notification"]["title"] == "Invoice paid"


async def test_read_over_the_socket_reaches_the_other_tab(live_hub: Any, make_user: Any) -> None:
    """inbox.read in one tab answers the unread count, and every tab hears notification.read."""
    alice = await sync_to_async(make_user)("alice")
    made = [await sync_to_async(services.notify)(alice, f"n{n}") for n in range(3)]
    async with client_for(live_hub, alice) as one, client_for(live_hub, alice) as two:
        reply = await one.request({"type": "inbox.read", "ids": [made[0].pk]})
        assert reply == {"type": "ok", "ref": reply["ref"], "result": {"unread": 2}}
        for tab in (one, two):
            event = await tab.next_event()
            assert (event["event"], event["data"]) == (
                "notification.read",
                {"ids": [made[0].pk], "all": False, "unread": 2},
            )
        assert (await two.request({"type": "inbox.read_all"}))["result"] == {"unread": 0}
        assert (await one.next_event())["data"] == {"ids": [], "all": True, "unread": 0}


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "inbox.read", "ids": []}, "bad_frame"),
        ({"type": "inbox.read", "ids": ["1"]}, "bad_frame"),
        ({"type": "inbox.read"}, "bad_frame"),
        ({"type": "inbox.nope"}, "unknown_type"),
    ],
)
async def test_bad_inbox_frames_are_refused(live_hub: Any, make_user: Any, frame: dict, code: str) -> None:
    """Malformed inbox frames get their error code."""
    alice = await sync_to_async(make_user)("alice")
    async with client_for(live_hub, alice) as tab:
        with pytest.raises(HubError) as refused:
            await tab.request(frame)
        assert refused.value.code == code


async def test_visitors_have_no_inbox(live_hub: Any) -> None:
    """A visitor's inbox frames are forbidden."""
    async with client_for(live_hub) as visitor:
        with pytest.raises(HubError) as refused:
            await visitor.request({"type": "inbox.read_all"})
        assert refused.value.code == "forbidden"


def test_http_endpoints(django_user_model: Any, db: Any) -> None:
    """Read one, read all and the count over HTTP; other users' rows are 404; visitors 401."""
    alice = django_user_model.objects.create_user("alice", password="x")
    bob = django_user_model.objects.create_user("bob", password="x")
    mine = [services.notify(alice, f"n{n}") for n in range(3)]
    theirs = services.notify(bob, "private")
    browser = Client()
    assert browser.get("/inbox/unread/").status_code == 401
    assert browser.post(f"/inbox/{mine[0].pk}/read/").status_code == 401
    browser.force_login(alice)
    assert browser.get("/inbox/unread/").json() == {"unread": 3}
    assert browser.post(f"/inbox/{mine[0].pk}/read/").json() == {"unread": 2}
    assert browser.post(f"/inbox/{theirs.pk}/read/").status_code == 404
    assert browser.post("/inbox/read-all/").json() == {"unread": 0}
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_inbox_page_pages_and_shows_the_bell(django_user_model: Any, db: Any, settings: Any) -> None:
    """The inbox lists newest first, a page at a time; every page shows the unread count."""
    settings.HUB_INBOX_PAGE_SIZE = 10
    alice = django_user_model.objects.create_user("alice", password="x")
    for n in range(25):
        services.notify(alice, f"note {n:02}")
    browser = Client()
    browser.force_login(alice)
    first = browser.get("/inbox/").content.decode()
    assert "note 24" in first and "note 15" in first and "note 14" not in first
    assert 'data-unread="25"' in browser.get("/").content.decode()
    last = browser.get("/inbox/?page=3").content.decode()
    assert "note 04" in last and "note 00" in last and "Page 3 of 3" in last
    assert browser.get("/inbox/").status_code == 200 and Client().get("/inbox/").status_code == 302


def test_bad_notifications_raise(django_user_model: Any, db: Any) -> None:
    """A bad level, URL scheme or non-JSON data raises PublishError and stores nothing."""
    alice = django_user_model.objects.create_user("alice", password="x")
    for kwargs in ({"level": "panic"}, {"url": "javascript:alert(1)"}, {"data": {"when": object()}}):
        with pytest.raises(PublishError):
            services.notify(alice, "x", **kwargs)
    assert not Notification.objects.exists()


def test_retention_purges_old_notifications(django_user_model: Any, db: Any, settings: Any) -> None:
    """Notifications older than HUB_INBOX_RETENTION_DAYS are deleted by the purge task."""
    from notifications.inbox.tasks import purge_expired_notifications

    settings.HUB_INBOX_RETENTION_DAYS = 30
    alice = django_user_model.objects.create_user("alice", password="x")
    old, new = services.notify(alice, "old"), services.notify(alice, "new")
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=31))
    assert purge_expired_notifications() == 1
    assert list(Notification.objects.values_list("pk", flat=True)) == [new.pk]


def test_state_endpoint_answers_the_count_and_a_page_as_pushed(django_user_model: Any, db: Any, settings: Any) -> None:
    """GET /inbox/state/: the unread count and a page of the user's notifications in the pushes' shape; 401 for visitors."""
    settings.HUB_INBOX_PAGE_SIZE = 2
    alice = django_user_model.objects.create_user("alice", password="x")
    bob = django_user_model.objects.create_user("bob", password="x")
    notes = [services.notify(alice, f"n{n}", url=f"/orders/{n}/") for n in range(3)]
    services.notify(bob, "private")
    services.mark_read(alice, [notes[2].pk])
    browser = Client()
    assert browser.get("/inbox/state/").status_code == 401
    browser.force_login(alice)

    first = browser.get("/inbox/state/")
    newest = [services.as_payload(Notification.objects.get(pk=note.pk)) for note in (notes[2], notes[1])]
    assert first.json() == {"unread": 2, "items": newest, "page": 1, "pages": 2}
    assert first.json()["items"][0]["read"] is True and first["Cache-Control"] == "no-store"
    assert [item["title"] for item in browser.get("/inbox/state/?page=2").json()["items"]] == ["n0"]


async def test_a_notification_saved_outside_notify_is_pushed_and_an_edit_updates_the_count(
    live_hub: Any, make_user: Any
) -> None:
    """objects.create (as the admin or a task would) pushes notification.new; setting read_at pushes the count."""
    alice = await sync_to_async(make_user)("alice")
    async with client_for(live_hub, alice) as tab:
        made = await sync_to_async(Notification.objects.create)(user=alice, title="From a task", url="/jobs/")
        event = await tab.next_event()
        assert event["event"] == "notification.new" and event["data"]["unread"] == 1
        assert event["data"]["notification"]["url"] == "/jobs/"
        made.read_at = timezone.now()
        await sync_to_async(made.save)()
        event = await tab.next_event()
    assert (event["event"], event["data"]) == ("notification.read", {"ids": [made.pk], "all": False, "unread": 0})


@pytest.mark.django_db(transaction=True)
def test_test_notification_button(make_user: Any) -> None:
    """POST /inbox/test/ stores one (201 to scripts, a redirect to forms), refuses a second at once (429) and visitors (401)."""
    assert Client().post("/inbox/test/").status_code == 401
    browser = Client()
    alice = make_user("alice")
    browser.force_login(alice)
    answer = browser.post("/inbox/test/", headers={"Accept": "application/json"})
    assert answer.status_code == 201
    stored = Notification.objects.get(pk=answer.json()["id"])
    assert (stored.user, stored.title, stored.url, stored.read_at) == (alice, "Test notification", "/inbox/", None)
    again = browser.post("/inbox/test/", headers={"Accept": "application/json"})
    assert again.status_code == 429 and again.json()["error"] == "too_many"
    Notification.objects.update(created_at=timezone.now() - datetime.timedelta(seconds=5))
    form = browser.post("/inbox/test/")
    assert (form.status_code, form["Location"]) == (302, "/inbox/")
    assert Notification.objects.filter(user=alice).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_admin_refuses_a_link_that_is_not_a_path_or_http(make_user: Any) -> None:
    """A javascript: or //host link is refused by the admin form; a stored one is never linked."""
    admin = Client()
    admin.force_login(make_user("root", is_staff=True, is_superuser=True))
    alice = make_user("alice")
    for url in ("javascript:alert(1)", "//evil.example/"):
        fields = {"user": alice.pk, "title": "t", "body": "", "url": url, "level": "info", "data": "{}"}
        response = admin.post("/admin/inbox/notification/add/", fields)
        assert response.status_code == 200 and "A link must be a path" in response.content.decode()
    assert not Notification.objects.exists()
    with pytest.raises(PublishError):
        services.notify(alice, "t", url="//evil.example/")
    Notification.objects.bulk_create([Notification(user=alice, title="raw", url="javascript:alert(1)")])
    assert Notification.objects.get().link == "" and services.as_payload(Notification.objects.get())["url"] == ""
    browser = Client()
    browser.force_login(alice)
    assert "javascript:" not in browser.get("/inbox/").content.decode()
