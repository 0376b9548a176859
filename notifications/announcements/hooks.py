"""What a new hub connection gets right after ``hello``: the announcements that apply to it.

Registered with ``notifications.registry.on_connect`` in ``AnnouncementsConfig.ready``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import DatabaseError

from notifications import groups
from notifications.announcements import events, selectors
from notifications.announcements.models import Announcement

logger = logging.getLogger(__name__)

__all__ = ["active_announcements"]


def active_announcements(user: Any) -> list[dict]:
    """Return an ``announcement.show`` per live announcement for ``user`` that they have not dismissed.

    Nothing at all when none applies, or (logged) when the database cannot be read: the
    connection goes on without them. Runs in a thread (it queries the database).
    """
    ts = int(time.time() * 1000)
    try:
        found = list(selectors.for_user(user=user).prefetch_related("groups"))
        authenticated = user is not None and user.is_authenticated
        group_ids = set(user.groups.values_list("pk", flat=True)) if found and authenticated else set()
    except DatabaseError as error:
        logger.warning("A new hub connection gets no announcements: cannot read them: %s", error)
        return []
    messages = []
    for announcement in found:
        stream = events.stream(_matched_target(announcement, user, group_ids))
        message = groups.event_message(stream=stream, event=events.SHOW, data=events.payload(announcement), ts=ts)
        # Counted like a live show: the connections this version reached (metrics.receipts).
        message["receipt"] = events.receipt_key(announcement)
        messages.append(message)
    return messages


def _matched_target(announcement: Announcement, user: Any, group_ids: set[int]) -> str:
    """Return the target through which ``user`` gets ``announcement`` (its stream on the client)."""
    Audience = Announcement.Audience
    if announcement.audience in (Audience.EVERYONE, Audience.AUTHENTICATED):
        return str(announcement.audience)
    if announcement.audience == Audience.STAFF and user.is_staff:
        return groups.STAFF
    for group in announcement.groups.all():
        if group.pk in group_ids:
            return groups.django_group_audience(group.pk)
    return events.user_target(user.pk)
