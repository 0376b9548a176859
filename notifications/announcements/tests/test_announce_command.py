"""``manage.py announce``: posts from scripts reach their audience; bad input gets a clear CommandError."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.management import CommandError, call_command

from notifications.announcements.models import Announcement
from notifications.announcements.tests.conftest import client_for, events_until_marker, send_marker


def announce(*args: str) -> str:
    out = io.StringIO()
    call_command("announce", *args, stdout=out)
    return out.getvalue()


async def test_announce_reaches_the_chosen_audience(live_hub: Any, people: dict) -> None:
    """A warning to staff and a group, for 30 minutes: staff and members get it, others do not."""
    clients = {name: client_for(live_hub, people[name]) for name in ("staff", "member", "alice", "visitor")}
    for client in clients.values():
        await client.connect()
    output = await sync_to_async(announce)(
        "--title", "Deploy at 5", "--body", "*Expect* a blip", "--markdown", "--level", "warning",
        "--audience", "staff", "--audience", "group:editors", "--for", "30", "--not-dismissible",
    )  # fmt: skip
    announcement = await sync_to_async(Announcement.objects.get)()
    assert output.strip() == f"Announcement {announcement.pk} is live and was pushed to its audience."
    assert (announcement.expires_at - announcement.starts_at).total_seconds() == 1800
    await send_marker()
    for name, client in clients.items():
        received = [frame["data"] for frame in await events_until_marker(client)]
        if name in ("staff", "member"):
            assert [(d["title"], d["body_html"], d["level"], d["dismissible"]) for d in received] == [
                ("Deploy at 5", "<p><em>Expect</em> a blip</p>", "warning", False)
            ], name
        else:
            assert received == [], name
        await client.close()


@pytest.mark.django_db
def test_announce_schedules_a_future_one() -> None:
    """--starts in the future: saved, not pushed, and the output says when it starts."""
    output = announce("--title", "Later", "--starts", "2999-01-01T09:00", "--expires", "2999-01-01T10:00+00:00")
    assert "is scheduled (starts 2999-01-01T09:00:00+00:00)" in output
    assert Announcement.objects.get().shown_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--audience", "group:nobody"], "no group named 'nobody'"),
        (["--audience", "user:ghost"], "no user named 'ghost'"),
        (["--audience", "friends"], "bad --audience 'friends'"),
        (["--audience", "staff", "--audience", "everyone"], "give at most one of everyone, authenticated, staff"),
        (["--starts", "tomorrow"], "--starts must be an ISO date and time"),
        (["--for", "-5"], "--for must be a positive number of minutes"),
        (["--starts", "2030-01-02T00:00", "--expires", "2030-01-01T00:00"], "expires_at: The expiry must be after"),
    ],
)
def test_announce_names_bad_input(args: list[str], message: str) -> None:
    """Each bad option is a CommandError that names the value; nothing is saved."""
    with pytest.raises(CommandError, match=re.escape(message)):
        announce("--title", "t", *args)
    assert not Announcement.objects.exists()


@pytest.mark.django_db
def test_announce_without_a_reachable_hub_posts_nothing_and_says_what_to_do() -> None:
    """No Redis answers where the channel layer points: CommandError saying so, and no announcement stored."""
    from django.conf import settings
    from django.test import override_settings

    from notifications.embedded_redis import free_port

    layers = {
        "default": {
            **settings.CHANNEL_LAYERS["default"],
            "CONFIG": {"hosts": [f"redis://:secret@127.0.0.1:{free_port()}/0"]},
        }
    }
    with override_settings(CHANNEL_LAYERS=layers), pytest.raises(CommandError) as refused:
        call_command("announce", "--title", "Maintenance", "--body", "tonight")
    assert "does not answer" in str(refused.value) and "make run" in str(refused.value)
    assert "secret" not in str(refused.value) and not Announcement.objects.exists()
