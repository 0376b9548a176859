"""The one source of truth for announcement events: names, the payload, targets and receipts.

A *target* is where an announcement is pushed: a broadcast audience ("everyone",
"authenticated", "staff", "group.<pk>") or a user's stream ("user.<pk>"). Each target
is also the stream name shown to clients, prefixed by "broadcast." for audiences.
"""

from __future__ import annotations

from typing import Any

from notifications import groups
from notifications.announcements.models import Announcement

__all__ = [
    "DISMISSED",
    "HIDE",
    "SHOW",
    "hide_data",
    "payload",
    "receipt_key",
    "stream",
    "targets",
    "user_of",
    "user_target",
]

SHOW = "announcement.show"  # new or edited: the same id replaces the banner
HIDE = "announcement.hide"  # expired, retracted, deleted or no longer for this audience
DISMISSED = "announcement.dismissed"  # the user dismissed it (in another tab)

_USER_PREFIX = "user."


def payload(announcement: Announcement) -> dict[str, Any]:
    """Return the one shape of an announcement that the banner template and browsers use."""
    return {
        "id": announcement.pk,
        "title": announcement.title,
        "body_html": announcement.body_html,
        "level": announcement.level,
        "dismissible": announcement.dismissible,
        "starts": announcement.starts_at.isoformat(),
        "expires": announcement.expires_at.isoformat() if announcement.expires_at else None,
        "version": announcement.version,
        "updated": announcement.updated_at.isoformat() if announcement.updated_at else None,
    }


def hide_data(announcement: Announcement, *, version: int) -> dict[str, int]:
    """Return the data of a hide: browsers remove the banner if theirs is at ``version`` or older."""
    return {"id": announcement.pk, "version": version}


def receipt_key(announcement: Announcement) -> str:
    """Return the receipt key of the current version's shows (``metrics.receipts`` counts them)."""
    return f"announcement-{announcement.pk}-v{announcement.version}"


def user_target(user_id: int) -> str:
    """Return the target of one chosen user."""
    return groups.user_stream(user_id)


def targets(announcement: Announcement) -> list[str]:
    """Return where to push ``announcement``: one audience group each, plus each chosen user.

    Everyone and signed-in users already include every group and user, so those are left out.
    """
    audience = announcement.audience
    if audience in (Announcement.Audience.EVERYONE, Announcement.Audience.AUTHENTICATED):
        return [str(audience)]
    keys = [groups.STAFF] if audience == Announcement.Audience.STAFF else []
    keys += [groups.django_group_audience(pk) for pk in sorted(group.pk for group in announcement.groups.all())]
    users = sorted((user.pk, user.is_staff) for user in announcement.users.all())
    keys += [user_target(pk) for pk, is_staff in users if not (is_staff and audience == Announcement.Audience.STAFF)]
    return keys


def stream(target: str) -> str:
    """Return the stream name that clients see for events pushed to ``target``."""
    return target if target.startswith(_USER_PREFIX) else groups.broadcast_stream(target)


def user_of(target: str) -> int | None:
    """Return the user id of a user target, or None for an audience."""
    return int(target[len(_USER_PREFIX) :]) if target.startswith(_USER_PREFIX) else None
