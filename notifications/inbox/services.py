"""The inbox's services: notify a user, mark read, count, purge. Every change is pushed."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from notifications import publish
from notifications.conf import hub_settings
from notifications.exceptions import PublishError
from notifications.inbox.models import Notification

__all__ = ["as_payload", "mark_all_read", "mark_read", "notify", "purge_expired", "unread_count"]

NEW_EVENT = "notification.new"
READ_EVENT = "notification.read"


def notify(
    user: Any, title: str, *, body: str = "", url: str = "", level: str = "info", data: Any = None
) -> Notification:
    """Store a notification for ``user`` and push it to their open tabs after commit."""
    if url and not url.startswith(("/", "https://", "http://")):
        raise PublishError("url must be a path or an http(s) URL, not %r" % url)
    if level not in Notification.Level.values:
        raise PublishError("level must be one of %s, not %r" % (", ".join(Notification.Level.values), level))
    try:
        json.dumps(data)
    except (TypeError, ValueError) as error:
        raise PublishError("notification data is not JSON-serialisable: %s" % error) from error
    with transaction.atomic():
        notification = Notification.objects.create(
            user=user, title=title, body=body, url=url, level=level, data=data or {}
        )
        unread = unread_count(user)
        publish.to_user(user, NEW_EVENT, {"notification": as_payload(notification), "unread": unread})
    return notification


def mark_read(user: Any, ids: Iterable[int]) -> int:
    """Mark the user's notifications ``ids`` read; push the change to their tabs; return unread left."""
    ids = [int(pk) for pk in ids]
    with transaction.atomic():
        Notification.objects.filter(user=user, pk__in=ids, read_at=None).update(read_at=timezone.now())
        unread = unread_count(user)
        publish.to_user(user, READ_EVENT, {"ids": ids, "all": False, "unread": unread})
    return unread


def mark_all_read(user: Any) -> int:
    """Mark all the user's notifications read; push the change to their tabs; return 0."""
    with transaction.atomic():
        Notification.objects.filter(user=user, read_at=None).update(read_at=timezone.now())
        publish.to_user(user, READ_EVENT, {"ids": [], "all": True, "unread": 0})
    return 0


def unread_count(user: Any) -> int:
    """Return how many of ``user``'s notifications are unread."""
    return Notification.objects.filter(user=user, read_at=None).count()


def purge_expired(*, now: datetime.datetime | None = None) -> int:
    """Delete notifications older than HUB_INBOX_RETENTION_DAYS; return how many."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=hub_settings.HUB_INBOX_RETENTION_DAYS)
    deleted, _ = Notification.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def as_payload(notification: Notification) -> dict[str, Any]:
    """Return the one shape of a notification used by pages, HTTP answers and pushes."""
    return {
        "id": notification.pk,
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "level": notification.level,
        "data": notification.data,
        "created": notification.created_at.isoformat(),
        "read": notification.read_at is not None,
    }
