"""What a new hub connection gets right after ``hello``: the announcements that apply to it.

``on_connect`` is registered with ``notifications.registry.on_connect`` in
``AnnouncementsConfig.ready``; it picks them from the process's snapshot (``snapshot``).
"""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async
from django.db import DatabaseError

from notifications.announcements import snapshot
from notifications.user_groups import group_ids, known_group_ids

logger = logging.getLogger(__name__)

__all__ = ["active_announcements", "on_connect"]


def active_announcements(user: Any) -> list[dict]:
    """Return an ``announcement.show`` per live announcement for ``user`` that they have not dismissed.

    Read from the database now, not from the process's snapshot. Nothing at all when none
    applies, or (logged) when the database cannot be read.
    """
    try:
        found = snapshot.read()
        member_of = group_ids(user) if _signed_in(user) and found.targets_groups else []
    except DatabaseError as error:
        _unreadable(error)
        return []
    return found.select(user, member_of)


async def on_connect(user: Any) -> list[dict]:
    """Return what :func:`active_announcements` would, from the process's snapshot: no database read.

    Only when an announcement is addressed to groups does a session-cookie user's group
    list cost a query (a token connect loads it with the user).
    """
    try:
        found = await snapshot.current()
        member_of: list[int] = []
        if _signed_in(user) and found.targets_groups:
            known = known_group_ids(user)  # a query, in a thread, only if they were not loaded
            member_of = known if known is not None else await database_sync_to_async(group_ids)(user)
    except DatabaseError as error:
        _unreadable(error)
        return []
    return found.select(user, member_of)


def _signed_in(user: Any) -> bool:
    return user is not None and user.is_authenticated


def _unreadable(error: DatabaseError) -> None:
    logger.warning("A new hub connection gets no announcements: cannot read them: %s", error)
