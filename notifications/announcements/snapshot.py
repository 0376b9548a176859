"""The announcements a hub process gives new connections: read once, kept until they change.

A connect used to query its user's announcements: a thread hop and a database round trip
per connect, half of a visitor's connect time. A process now keeps every announcement
that is live or scheduled, with its chosen groups and users and its dismissals, and picks
each connection's in memory (:meth:`Snapshot.select`); "live" is decided per connect, so
starts and expiries need no reload.

The copy carries the version it was read at, a value in Redis. Every write through the
ORM replaces the value once it commits (:func:`changed`, connected to the models' signals
in ``AnnouncementsConfig.ready``), before the push that tells open connections, which
services register after the write. A connection checks the value after it has joined
its streams, in a read on the event loop shared with the connects of the same moment
(``notifications.batching``): a change bumped before that read is in its snapshot, a
change bumped after it reaches the connection as a push, replayed or live. Writes that no
signal sees (a raw ``UPDATE``, SQL by hand) are picked up within ``MAX_AGE`` seconds.
"""

from __future__ import annotations

import datetime
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from notifications import groups, redis_client
from notifications.announcements import events, selectors
from notifications.announcements.models import Announcement, AnnouncementDismissal
from notifications.batching import Batch

logger = logging.getLogger(__name__)

__all__ = ["MAX_AGE", "Snapshot", "changed", "current", "read"]

MAX_AGE = 10.0  # seconds a copy is trusted without a change: the bound on staleness after a raw write


@dataclass(frozen=True)
class _Entry:
    """One announcement as the snapshot keeps it: what selection needs and the payload it sends."""

    announcement: Announcement
    payload: dict[str, Any]
    receipt: str
    group_ids: tuple[int, ...]  # sorted: the first one a user is in names the stream
    user_ids: frozenset[int]
    dismissed_by: frozenset[int]


@dataclass(frozen=True)
class Snapshot:
    """The announcements that are live or scheduled, as read at ``version``."""

    entries: tuple[_Entry, ...]
    version: str | None  # None: read while the version could not be (never trusted)
    read_at: float  # time.monotonic()

    @property
    def targets_groups(self) -> bool:
        """Whether some announcement is addressed to Django groups (selection then needs the user's)."""
        return any(entry.group_ids for entry in self.entries)

    def select(self, user: Any, group_ids: Iterable[int] = (), now: datetime.datetime | None = None) -> list[dict]:
        """Return an ``announcement.show`` per announcement live at ``now`` for ``user`` (in ``group_ids``)."""
        now = now or timezone.now()
        ts = int(time.time() * 1000)
        authenticated = user is not None and user.is_authenticated
        member_of = set(group_ids)
        messages = []
        for entry in self.entries:
            if not entry.announcement.is_live(now):
                continue
            target = _target(entry, user, member_of) if authenticated else _visitor_target(entry)
            if target is None:
                continue
            message = groups.event_message(stream=events.stream(target), event=events.SHOW, data=entry.payload, ts=ts)
            # Counted like a live show: the connections this version reached (metrics.receipts).
            message["receipt"] = entry.receipt
            messages.append(message)
        return messages


def read(version: str | None = None) -> Snapshot:
    """Read the announcements that are live or scheduled from the database; raise DatabaseError if it cannot."""
    found = list(selectors.not_ended())
    ids = [announcement.pk for announcement in found]
    chosen_groups, chosen_users, dismissed = defaultdict(list), defaultdict(set), defaultdict(set)
    if ids:
        for announcement_id, group_id in Announcement.groups.through.objects.filter(
            announcement_id__in=ids
        ).values_list("announcement_id", "group_id"):
            chosen_groups[announcement_id].append(group_id)
        for announcement_id, user_id in Announcement.users.through.objects.filter(announcement_id__in=ids).values_list(
            "announcement_id", "user_id"
        ):
            chosen_users[announcement_id].add(user_id)
        for announcement_id, user_id in AnnouncementDismissal.objects.filter(announcement_id__in=ids).values_list(
            "announcement_id", "user_id"
        ):
            dismissed[announcement_id].add(user_id)
    entries = tuple(
        _Entry(
            announcement,
            events.payload(announcement),
            events.receipt_key(announcement),
            tuple(sorted(chosen_groups[announcement.pk])),
            frozenset(chosen_users[announcement.pk]),
            frozenset(dismissed[announcement.pk]),
        )
        for announcement in found
    )
    return Snapshot(entries, version, time.monotonic())


async def current() -> Snapshot:
    """Return this process's snapshot, checked against the version by a read that starts after the call.

    Raise DatabaseError if it had to be read again and the database could not be read.
    """
    return await _batch.get(None)


def changed(**kwargs: Any) -> None:
    """A signal receiver: once the write commits, every process's snapshot is out of date."""
    transaction.on_commit(_bump, using=kwargs.get("using"))


def _bump() -> None:
    global _kept
    _kept = None
    try:
        # A new random value, not a count: a Redis that restarted empty cannot bring an old one back.
        key = _version_key()  # on the shard the connects read it from (run_script picks by key)
        get_channel_layer().blocking_client(key).set(key, uuid.uuid4().hex)
    except RedisError as error:
        logger.warning(
            "Announcements changed but the hub's Redis could not be told; new connections may miss the "
            "change for up to %s s: %s",
            MAX_AGE,
            error,
        )


_kept: Snapshot | None = None


async def _refresh(_keys: list[None]) -> dict[None, Snapshot]:
    """Return the kept snapshot if the version has not changed and it is young enough, else read it again.

    The version is read on the event loop through the channel layer's Redis connections: a
    connect whose snapshot is current costs no thread hop.
    """
    global _kept
    key = _version_key()
    try:
        raw = await get_channel_layer().run_script(key, _GET, [key], [], ordered=False)
        version: str | None = raw.decode() if isinstance(raw, bytes) else str(raw)
    except RedisError as error:
        logger.warning("Could not read the announcements' version; reading them from the database: %s", error)
        version = None
    kept = _kept
    if kept is not None and version is not None and kept.version == version and not _too_old(kept):
        return {None: kept}
    _kept = snapshot = await database_sync_to_async(read)(version)
    return {None: snapshot}


_GET = "return redis.call('GET', KEYS[1])"
_batch: Batch[None, Snapshot] = Batch(_refresh)


def _too_old(kept: Snapshot) -> bool:
    return time.monotonic() - kept.read_at >= MAX_AGE


def _version_key() -> str:
    return f"{redis_client.prefix()}:announcements:version"


def _visitor_target(entry: _Entry) -> str | None:
    """Return the target through which a visitor gets ``entry``: only announcements to everyone."""
    if entry.announcement.audience == Announcement.Audience.EVERYONE:
        return str(entry.announcement.audience)
    return None


def _target(entry: _Entry, user: Any, member_of: set[int]) -> str | None:
    """Return the target through which a signed-in ``user`` gets ``entry`` (its stream), or None."""
    if user.pk in entry.dismissed_by:
        return None
    Audience = Announcement.Audience
    audience = entry.announcement.audience
    if audience in (Audience.EVERYONE, Audience.AUTHENTICATED):
        return str(audience)
    if audience == Audience.STAFF and user.is_staff:
        return groups.STAFF
    for group_id in entry.group_ids:
        if group_id in member_of:
            return groups.django_group_audience(group_id)
    if user.pk in entry.user_ids:
        return events.user_target(user.pk)
    return None
