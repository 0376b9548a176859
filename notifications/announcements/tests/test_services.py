"""Unit tests of the announcement services: payload, sanitising, targets, state and pushes, scheduling.

Pushes are recorded by replacing the publishing functions the services call; the end-to-end
tests beside these use the real hub.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.test import Client
from django.utils import timezone

from notifications.announcements import checks, events, hooks, rendering, selectors, services
from notifications.announcements.models import Announcement

pytestmark = pytest.mark.django_db
Audience = Announcement.Audience


class Recorder:
    """Stands in for ``notifications.publish``: records (target, event, data, receipt)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any, str | None]] = []

    def broadcast(self, event: str, data: Any = None, *, audience: str, receipt: str | None = None) -> None:
        self.sent.append((audience, event, data, receipt))

    def to_user(self, user: Any, event: str, data: Any = None, *, receipt: str | None = None) -> None:
        self.sent.append((f"user.{getattr(user, 'pk', user)}", event, data, receipt))

    def take(self) -> list[tuple[str, str, Any]]:
        """Return (target, event, id) of what was sent since the last take."""
        taken = [(target, event, data["id"]) for target, event, data, _receipt in self.sent]
        self.sent.clear()
        return taken


@pytest.fixture
def pushes(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Record what the services publish instead of sending it."""
    recorder = Recorder()
    monkeypatch.setattr(services, "publish", recorder)
    return recorder


@pytest.fixture
def users(django_user_model: Any) -> dict[str, Any]:
    """A user, a staff member and an editor."""
    editors = Group.objects.create(name="editors")
    eve = django_user_model.objects.create_user("eve")
    eve.groups.add(editors)
    return {
        "alice": django_user_model.objects.create_user("alice"),
        "staff": django_user_model.objects.create_user("sam", is_staff=True),
        "eve": eve,
        "editors": editors,
    }


def minutes(n: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(minutes=n)


def test_markdown_is_sanitised_and_plain_text_is_escaped() -> None:
    """Markdown keeps its formatting but loses scripts and handlers; plain text shows markup as typed."""
    html = rendering.body_html("**bold** <script>alert(1)</script> <img src=x onerror=alert(1)>", markdown=True)
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and "onerror" not in html and "alert(1)</script>" not in html
    plain = rendering.body_html("<b>hi</b>\nthere", markdown=False)
    assert plain == "<p>&lt;b&gt;hi&lt;/b&gt;<br>there</p>"


def test_payload_has_one_stable_shape(pushes: Recorder) -> None:
    """The payload carries exactly the documented keys, with the body as sanitised HTML."""
    announcement = services.create_announcement(title="Hi", body="*x*", markdown=True, level="warning")
    data = events.payload(announcement)
    assert set(data) == {"id", "title", "body_html", "level", "dismissible", "starts", "expires", "version", "updated"}
    assert (data["title"], data["body_html"], data["level"], data["version"]) == (
        "Hi",
        "<p><em>x</em></p>",
        "warning",
        1,
    )


def test_targets_are_one_per_audience_group_plus_chosen_users(users: dict) -> None:
    """Everyone and signed-in are one group; staff adds chosen groups and the chosen non-staff users."""
    announcement = Announcement.objects.create(title="t", audience=Audience.STAFF)
    announcement.groups.add(users["editors"])
    announcement.users.add(users["alice"], users["staff"])
    group, alice = users["editors"].pk, users["alice"].pk
    assert events.targets(announcement) == ["staff", f"group.{group}", f"user.{alice}"]
    announcement.audience = Audience.CHOSEN
    assert events.targets(announcement) == [f"group.{group}", f"user.{alice}", f"user.{users['staff'].pk}"]
    announcement.audience = Audience.AUTHENTICATED
    assert events.targets(announcement) == ["authenticated"]


def test_saving_a_live_one_shows_it_and_narrowing_hides_it_from_lost_targets(pushes: Recorder) -> None:
    """Live: shown with the version's receipt; moved from everyone to staff: hidden (older version) from everyone."""
    announcement = services.create_announcement(title="t")
    assert pushes.sent == [
        ("everyone", "announcement.show", events.payload(announcement), f"announcement-{announcement.pk}-v1")
    ]
    pushes.sent.clear()
    announcement.audience = Audience.STAFF
    announcement.save()
    assert services.publish_changes(announcement=announcement) == "live"
    assert [(target, event, data.get("version")) for target, event, data, _ in pushes.sent] == [
        ("staff", "announcement.show", 2),
        ("everyone", "announcement.hide", 1),
    ]


def test_scheduled_one_goes_out_once_at_start_and_is_hidden_once_at_expiry(pushes: Recorder) -> None:
    """The scheduler shows at the start and hides at the expiry, each exactly once however often it runs."""
    announcement = services.create_announcement(title="later", starts_at=minutes(10), expires_at=minutes(20))
    assert pushes.take() == []
    assert services.run_schedule(now=minutes(5)) == {"shown": 0, "hidden": 0}
    assert services.run_schedule(now=minutes(11)) == {"shown": 1, "hidden": 0}
    assert services.run_schedule(now=minutes(12)) == {"shown": 0, "hidden": 0}
    assert pushes.take() == [("everyone", "announcement.show", announcement.pk)]
    assert services.run_schedule(now=minutes(21)) == {"shown": 0, "hidden": 1}
    assert services.run_schedule(now=minutes(22)) == {"shown": 0, "hidden": 0}
    assert pushes.take() == [("everyone", "announcement.hide", announcement.pk)]


def test_scheduler_pushes_edits_saved_without_the_services(pushes: Recorder) -> None:
    """An edit saved in the shell (a new version) is shown by the next scheduler run."""
    announcement = services.create_announcement(title="v1")
    pushes.take()
    announcement.title = "v2"
    announcement.save()
    assert services.run_schedule() == {"shown": 1, "hidden": 0}
    (_target, event, data, receipt) = pushes.sent[0]
    assert (event, data["title"], data["version"], receipt) == (
        "announcement.show",
        "v2",
        2,
        f"announcement-{announcement.pk}-v2",
    )


def test_retract_publish_now_and_delete_push_hide_and_show(pushes: Recorder) -> None:
    """Retracting hides, publishing now shows again, deleting hides; an expired one is not published."""
    announcement = services.create_announcement(title="t")
    pushes.take()
    assert services.retract(announcement=announcement) is True
    assert services.retract(announcement=announcement) is False
    assert pushes.take() == [("everyone", "announcement.hide", announcement.pk)]
    assert services.publish_now(announcement=announcement) is True
    assert pushes.take() == [("everyone", "announcement.show", announcement.pk)]
    pk = announcement.pk
    services.delete_announcement(announcement=announcement)
    assert pushes.take() == [("everyone", "announcement.hide", pk)]
    expired = services.create_announcement(title="old", starts_at=minutes(-20), expires_at=minutes(-10))
    assert services.publish_now(announcement=expired) is False
    assert pushes.take() == []


def test_invalid_announcements_are_refused(pushes: Recorder, settings: Any) -> None:
    """An expiry before the start or a body over HUB_MAX_EVENT_BYTES is a ValidationError naming the field."""
    with pytest.raises(ValidationError) as refused:
        services.create_announcement(title="t", starts_at=minutes(10), expires_at=minutes(5))
    assert "expires_at" in refused.value.message_dict
    settings.HUB_MAX_EVENT_BYTES = 2048
    with pytest.raises(ValidationError) as refused:
        services.create_announcement(title="t", body="x" * 4000)
    assert "HUB_MAX_EVENT_BYTES" in refused.value.message_dict["body"][0]
    assert pushes.take() == [] and not Announcement.objects.exists()


def test_for_user_applies_audiences_dismissals_and_severity(pushes: Recorder, users: dict) -> None:
    """Visitors see everyone-announcements; members see their group's; dismissed ones go; critical first."""
    services.create_announcement(title="everyone")
    services.create_announcement(title="critical", level="critical", audience=Audience.AUTHENTICATED)
    editors = services.create_announcement(title="editors", audience=Audience.CHOSEN, groups=[users["editors"]])
    staff = services.create_announcement(title="staff", audience=Audience.STAFF)

    def titles(user: Any) -> list[str]:
        return [a.title for a in selectors.for_user(user=user)]

    assert titles(AnonymousUser()) == ["everyone"]
    assert titles(users["alice"]) == ["critical", "everyone"]
    assert titles(users["eve"]) == ["critical", "editors", "everyone"]
    assert titles(users["staff"]) == ["critical", "staff", "everyone"]
    services.dismiss(announcement=editors, user=users["eve"])
    assert titles(users["eve"]) == ["critical", "everyone"]
    assert selectors.applies_to(announcement=staff, user=users["eve"]) is False


def test_connect_hook_gives_shows_on_the_stream_the_user_matched(pushes: Recorder, users: dict) -> None:
    """The hook's messages are shows with the payload and receipt, on the group or user stream; none for nobody."""
    editors = services.create_announcement(
        title="editors", audience=Audience.CHOSEN, groups=[users["editors"]], users=[users["alice"]]
    )
    assert hooks.active_announcements(AnonymousUser()) == []
    (for_eve,) = hooks.active_announcements(users["eve"])
    (for_alice,) = hooks.active_announcements(users["alice"])
    assert (
        for_eve["topic"] == f"broadcast.group.{users['editors'].pk}"
        and for_alice["topic"] == f"user.{users['alice'].pk}"
    )
    assert for_eve["event"] == "announcement.show" and for_eve["data"] == events.payload(editors)
    assert for_eve["receipt"] == f"announcement-{editors.pk}-v1"


def test_banner_renders_server_side_with_escaped_title(pushes: Recorder) -> None:
    """A page shows the live banner without JavaScript; the title's markup is shown as text."""
    services.create_announcement(title="<i>Maintenance</i>", body="**tonight**", markdown=True, level="warning")
    html = Client().get("/").content.decode()
    assert 'class="announcement announcement-warning"' in html
    assert "&lt;i&gt;Maintenance&lt;/i&gt;" in html and "<p><strong>tonight</strong></p>" in html


def test_unreadable_announcements_do_not_stop_connections_or_pages(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """If the database cannot be read, a connection gets no announcements and a page no banner, with a warning."""

    def broken(**kwargs: Any) -> Any:
        raise DatabaseError("no such table: announcements_announcement")

    monkeypatch.setattr(selectors, "for_user", broken)
    monkeypatch.setattr(selectors, "not_ended", broken)
    assert hooks.active_announcements(AnonymousUser()) == []
    assert Client().get("/").status_code == 200
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert any("connection gets no announcements" in text for text in warnings)
    assert any("rendered without its announcements" in text for text in warnings)


def test_a_schedule_that_is_not_positive_fails_the_system_check(settings: Any) -> None:
    """HUB_ANNOUNCEMENTS_SCHEDULE_SECONDS=0 is reported as announcements.E001."""
    settings.HUB_ANNOUNCEMENTS_SCHEDULE_SECONDS = 0
    assert [error.id for error in checks.check_schedule()] == ["announcements.E001"]
    settings.HUB_ANNOUNCEMENTS_SCHEDULE_SECONDS = 2.5
    assert checks.check_schedule() == []
