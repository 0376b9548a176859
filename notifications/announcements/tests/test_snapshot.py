"""The process's snapshot gives a connect what the database would, after every kind of write, without reading it."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import AnonymousUser

from notifications.announcements import hooks, services, snapshot
from notifications.announcements.models import Announcement, AnnouncementDismissal

Audience = Announcement.Audience


def on_connect(user: Any) -> list[tuple[str, str, int]]:
    """Return (stream, title, version) of what a new connection of ``user`` gets, from the snapshot."""
    return [_shown(message) for message in async_to_sync(hooks.on_connect)(user)]


def from_database(user: Any) -> list[tuple[str, str, int]]:
    """Return the same, read from the database now."""
    return [_shown(message) for message in hooks.active_announcements(user)]


def _shown(message: dict) -> tuple[str, str, int]:
    return message["topic"], message["data"]["title"], message["data"]["version"]


def test_every_kind_of_write_reaches_the_next_connect(people: dict) -> None:
    """Post, edit, target a group, dismiss, retract and delete: each next connect gets what the database says."""
    everyone = [people[name] for name in ("visitor", "alice", "staff", "member", "nonmember")]
    seen = []

    def check() -> None:
        for user in everyone:
            assert on_connect(user) == from_database(user), user
        seen.append(on_connect(people["member"]))

    check()
    posted = services.create_announcement(title="posted", audience=Audience.EVERYONE)
    check()
    posted.title = "edited"
    posted.save()
    check()
    chosen = services.create_announcement(title="chosen", audience=Audience.CHOSEN, users=[people["alice"]])
    chosen.groups.add(people["editors"])
    check()
    services.dismiss(announcement=posted, user=people["member"])
    check()
    services.retract(announcement=chosen)
    check()
    services.delete_announcement(announcement=posted)
    check()
    editors = f"broadcast.group.{people['editors'].pk}"
    assert seen == [
        [],
        [("broadcast.everyone", "posted", 1)],
        [("broadcast.everyone", "edited", 2)],
        [(editors, "chosen", 1), ("broadcast.everyone", "edited", 2)],
        [(editors, "chosen", 1)],
        [],
        [],
    ]


def test_connects_read_no_database_until_something_changes(people: dict, django_assert_num_queries: Any) -> None:
    """Once read, the snapshot serves visitors and signed-in users without a query; a write makes it read again."""
    services.create_announcement(title="hello", audience=Audience.AUTHENTICATED)
    on_connect(AnonymousUser())
    with django_assert_num_queries(0):
        assert on_connect(AnonymousUser()) == []
        assert on_connect(people["alice"]) == [("broadcast.authenticated", "hello", 1)]
    AnnouncementDismissal.objects.create(announcement=Announcement.objects.get(), user=people["alice"])
    assert on_connect(people["alice"]) == []


def test_a_write_no_signal_sees_is_read_once_the_snapshot_is_too_old(
    people: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A raw UPDATE bumps nothing: connects see it once the snapshot is older than MAX_AGE (here at once)."""
    announcement = services.create_announcement(title="before", audience=Audience.EVERYONE)
    assert on_connect(None) == [("broadcast.everyone", "before", 1)]
    Announcement.objects.filter(pk=announcement.pk).update(title="after")
    assert on_connect(None) == [("broadcast.everyone", "before", 1)]
    monkeypatch.setattr(snapshot, "MAX_AGE", 0.0)
    assert on_connect(None) == [("broadcast.everyone", "after", 1)]
