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
from notifications.inbox.models import Notification, is_safe_link

__all__ = ["as_payload", "mark_all_read", "mark_read", "notify", "purge_expired", "push_saved", "unread_count"]

NEW_EVENT = "notification.new"
READ_EVENT = "notification.read"


def notify(
    user: Any, title: str, *, body: str = "", url: str = "", level: str = "info", data: Any = None
) -> Notification:
    """Store a notification for ``user``; it reaches their open tabs after commit (``receivers.push_saved``)."""
    if url and not is_safe_link(url):
        raise PublishError("url must be a path starting with / or an http(s) URL, not %r" % url)
    if level not in Notification.Level.values:
        raise PublishError("level must be one of %s, not %r" % (", ".join(Notification.Level.values), level))
    try:
        json.dumps(data)
    except (TypeError, ValueError) as error:
        raise PublishError("notification data is not JSON-serialisable: %s" % error) from error
    return Notification.objects.create(user=user, title=title, body=body, url=url, level=level, data=data or {})


def push_saved(notification: Notification, *, created: bool) -> None:
    """Push a saved notification to its user's tabs after commit: new, or its read state and the count.

    Called for every save (``notify``, the admin, a task's ``objects.create``), so nothing written
    one way or another stays unseen until a reload. Bulk writes send no signal: push those yourself.
    """
    # In a block of its own if the save was not in one: the push then waits for its end, and a
    # failure to publish is logged, never raised to a caller whose row is already stored.
    with transaction.atomic():
        unread = unread_count(notification.user_id)
        if created:
            payload = {"notification": as_payload(notification), "unread": unread}
            publish.to_user(notification.user_id, NEW_EVENT, payload)
        else:
            read = [notification.pk] if notification.read_at else []
            publish.to_user(notification.user_id, READ_EVENT, {"ids": read, "all": False, "unread": unread})


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
        "url": notification.link,
        "level": notification.level,
        "data": notification.data,
        "created": notification.created_at.isoformat(),
        "read": notification.read_at is not None,
    }
