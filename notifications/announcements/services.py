"""Everything that changes announcements, and the pushes that keep browsers in line with them.

Each function runs in one transaction; the pushes go out after it commits
(``notifications.publish``). Shows carry the receipt key of the announcement's version;
see docs/announcements.md for the states and events.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications import publish
from notifications.announcements import events
from notifications.announcements.models import Announcement, AnnouncementDismissal, live_q, on_screens_q

logger = logging.getLogger(__name__)

__all__ = [
    "create_announcement",
    "delete_announcement",
    "dismiss",
    "publish_changes",
    "publish_now",
    "retract",
    "run_schedule",
]


def create_announcement(
    *,
    title: str,
    body: str = "",
    markdown: bool = False,
    level: str = Announcement.Level.INFO,
    audience: str = Announcement.Audience.EVERYONE,
    groups: Iterable[Any] = (),
    users: Iterable[Any] = (),
    starts_at: datetime.datetime | None = None,
    expires_at: datetime.datetime | None = None,
    dismissible: bool = True,
    created_by: Any = None,
) -> Announcement:
    """Validate and save an announcement, then push it if it is live; raise ValidationError if invalid."""
    announcement = Announcement(
        title=title,
        body=body,
        body_format=Announcement.BodyFormat.MARKDOWN if markdown else Announcement.BodyFormat.PLAIN,
        level=level,
        audience=audience,
        starts_at=starts_at or timezone.now(),
        expires_at=expires_at,
        dismissible=dismissible,
        created_by=created_by,
    )
    announcement.full_clean()
    with transaction.atomic():
        announcement.save()
        announcement.groups.set(groups)
        announcement.users.set(users)
        publish_changes(announcement=announcement)
    return announcement


def publish_changes(*, announcement: Announcement, now: datetime.datetime | None = None) -> str:
    """Bring browsers in line with a saved ``announcement`` (and its audiences); return its state.

    Live: shown again to its targets (hidden from targets it lost). Otherwise hidden if shown.
    """
    now = now or timezone.now()
    with transaction.atomic():
        announcement.refresh_from_db(fields=["shown_at", "shown_version", "hidden_at", "sent_to", "version"])
        if announcement.is_live(now):
            _show(announcement, now)
        else:
            _hide(announcement, now)
    return announcement.state(now)


def retract(*, announcement: Announcement) -> bool:
    """Take ``announcement`` off every screen for good; return False if it was already retracted."""
    with transaction.atomic():
        if announcement.retracted_at is not None:
            return False
        announcement.retracted_at = timezone.now()
        announcement.save()
        publish_changes(announcement=announcement)
    return True


def publish_now(*, announcement: Announcement) -> bool:
    """Make ``announcement`` live now (un-retract, start now); return False if it has expired."""
    now = timezone.now()
    if announcement.expires_at is not None and announcement.expires_at <= now:
        return False
    with transaction.atomic():
        announcement.retracted_at = None
        announcement.starts_at = min(announcement.starts_at, now)
        announcement.save()
        publish_changes(announcement=announcement, now=now)
    return True


def delete_announcement(*, announcement: Announcement) -> None:
    """Delete ``announcement``, hiding it first from the screens that show it."""
    with transaction.atomic():
        announcement.refresh_from_db(fields=["shown_at", "hidden_at", "sent_to", "version"])
        on_screens, targets = announcement.is_on_screens, announcement.sent_to
        hide = events.hide_data(announcement, version=announcement.version)
        # Deleted first: the hub's snapshots are dated (snapshot.changed) before the hide goes out.
        announcement.delete()
        if on_screens:
            _push(targets, events.HIDE, hide)


def dismiss(*, announcement: Announcement, user: Any) -> bool:
    """Remember that ``user`` dismissed ``announcement`` and hide it on their other tabs.

    Return True if it is newly dismissed. The caller checks that it applies and is dismissible.
    """
    with transaction.atomic():
        _dismissal, created = AnnouncementDismissal.objects.get_or_create(announcement=announcement, user=user)
        # Sent even when already dismissed: a tab that missed the first one catches up.
        publish.to_user(user, events.DISMISSED, {"id": announcement.pk})
    return created


def run_schedule(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Show what has started (or changed) and hide what has ended; return {"shown": n, "hidden": m}.

    Idempotent: each push is claimed by a conditional update, so a second run sends nothing.
    """
    now = now or timezone.now()
    due = Announcement.objects.filter(live_q(now) & (~on_screens_q() | ~Q(shown_version=F("version"))))
    ended = Announcement.objects.filter(on_screens_q() & ~live_q(now))
    shown = hidden = 0
    for announcement in due:
        with transaction.atomic():
            shown += _show(announcement, now, only_if=~on_screens_q() | ~Q(shown_version=F("version")))
    for announcement in ended:
        with transaction.atomic():
            hidden += _hide(announcement, now)
    if shown or hidden:
        logger.info("Announcement schedule: shown %d, hidden %d", shown, hidden)
    return {"shown": shown, "hidden": hidden}


def _show(announcement: Announcement, now: datetime.datetime, only_if: Q | None = None) -> bool:
    """Claim and push a show of the current version; hide it from targets it no longer has."""
    targets = events.targets(announcement)
    stale = [target for target in announcement.sent_to if target not in targets] if announcement.is_on_screens else []
    claimed = (
        Announcement.objects.filter(pk=announcement.pk, version=announcement.version)
        .filter(only_if or Q())
        .update(shown_at=now, shown_version=announcement.version, hidden_at=None, sent_to=targets)
    )
    if not claimed:
        return False
    _push(targets, events.SHOW, events.payload(announcement), receipt=events.receipt_key(announcement))
    # For older versions only: a browser that also gets the new show keeps it, in any order.
    _push(stale, events.HIDE, events.hide_data(announcement, version=announcement.version - 1))
    announcement.shown_at, announcement.shown_version, announcement.hidden_at = now, announcement.version, None
    announcement.sent_to = targets
    return True


def _hide(announcement: Announcement, now: datetime.datetime) -> bool:
    """Claim and push a hide to every target of the last show, if it is on screens."""
    claimed = Announcement.objects.filter(on_screens_q(), pk=announcement.pk).update(hidden_at=now)
    if not claimed:
        return False
    _push(announcement.sent_to, events.HIDE, events.hide_data(announcement, version=announcement.version))
    announcement.hidden_at = now
    return True


def _push(targets: Iterable[str], event: str, data: Any, receipt: str | None = None) -> None:
    """Publish ``event`` once per target: one group_send per audience group, one per chosen user."""
    for target in targets:
        user_id = events.user_of(target)
        if user_id is None:
            publish.broadcast(event, data, audience=target, receipt=receipt)
        else:
            publish.to_user(user_id, event, data, receipt=receipt)
