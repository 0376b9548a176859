"""Which announcements apply to whom: the reads shared by the banner, the connect hook and the views."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from notifications.announcements.models import Announcement

__all__ = ["applies_to", "audience_q", "for_user", "not_ended"]

_LEVEL_RANK = Case(
    When(level=Announcement.Level.CRITICAL, then=Value(0)),
    When(level=Announcement.Level.WARNING, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def audience_q(user: Any) -> Q:
    """Return the condition on announcements whose audience includes ``user`` (a visitor too)."""
    Audience = Announcement.Audience
    if user is None or not user.is_authenticated:
        return Q(audience=Audience.EVERYONE)
    condition = Q(audience__in=[Audience.EVERYONE, Audience.AUTHENTICATED])
    condition |= Q(groups__in=user.groups.all()) | Q(users=user)
    if user.is_staff:
        condition |= Q(audience=Audience.STAFF)
    return condition


def for_user(*, user: Any, now: datetime.datetime | None = None) -> QuerySet[Announcement]:
    """Return the live announcements for ``user`` that they have not dismissed, most severe first."""
    now = now or timezone.now()
    queryset = Announcement.objects.live(now).filter(audience_q(user))
    if user is not None and user.is_authenticated:
        queryset = queryset.exclude(dismissals__user=user)
    # distinct(): matching through several groups joins one row per group.
    ids = queryset.values("pk").distinct()
    return Announcement.objects.filter(pk__in=ids).alias(rank=_LEVEL_RANK).order_by("rank", "-starts_at", "-pk")


def applies_to(*, announcement: Announcement, user: Any) -> bool:
    """Tell whether ``announcement``'s audience includes ``user``, live or not."""
    return Announcement.objects.filter(pk=announcement.pk).filter(audience_q(user)).exists()


def not_ended(*, now: datetime.datetime | None = None) -> QuerySet[Announcement]:
    """Return the announcements live at ``now`` or later (scheduled ones too), most severe first.

    What the hub's connect snapshot holds (``snapshot``): it decides "live" per connect, as time passes.
    """
    now = now or timezone.now()
    running = Q(retracted_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    return Announcement.objects.filter(running).alias(rank=_LEVEL_RANK).order_by("rank", "-starts_at", "-pk")
