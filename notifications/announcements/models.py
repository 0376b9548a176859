"""Announcements that staff post once and every targeted browser shows, and who dismissed them.

The fields ``shown_at``, ``shown_version``, ``hidden_at`` and ``sent_to`` record what
browsers were last told; only ``services`` writes them (docs/announcements.md).
"""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from notifications.announcements import rendering
from notifications.conf import hub_settings

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager


class AnnouncementQuerySet(models.QuerySet["Announcement"]):
    """Queries by delivery state."""

    def live(self, now: datetime.datetime) -> AnnouncementQuerySet:
        """Return the announcements that should be on screens at ``now``."""
        return self.filter(live_q(now))

    def on_screens(self) -> AnnouncementQuerySet:
        """Return the announcements whose last push to browsers was a show."""
        return self.filter(on_screens_q())


def live_q(now: datetime.datetime) -> Q:
    """Return the condition of being live: started, not expired, not retracted."""
    return Q(retracted_at__isnull=True, starts_at__lte=now) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def on_screens_q() -> Q:
    """Return the condition of having been shown and not hidden since."""
    return Q(shown_at__isnull=False, hidden_at__isnull=True)


class Announcement(models.Model):
    """A banner shown at once on every page of its audience, from ``starts_at`` until ``expires_at``."""

    class Level(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"

    class Audience(models.TextChoices):
        EVERYONE = "everyone", "Everyone, visitors included"
        AUTHENTICATED = "authenticated", "Signed-in users"
        STAFF = "staff", "Staff"
        CHOSEN = "chosen", "Only the chosen groups and users"

    class BodyFormat(models.TextChoices):
        PLAIN = "plain", "Plain text (shown as typed)"
        MARKDOWN = "markdown", "Markdown (sanitised)"

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    body_format = models.CharField(max_length=10, choices=BodyFormat, default=BodyFormat.PLAIN)
    body_html = models.TextField(editable=False, default="")
    level = models.CharField(max_length=10, choices=Level, default=Level.INFO)
    audience = models.CharField(
        max_length=16,
        choices=Audience,
        default=Audience.EVERYONE,
        help_text="The chosen groups and users below are added to it (they matter with Staff or Only chosen).",
    )
    groups = models.ManyToManyField("auth.Group", blank=True, related_name="announcements")
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="targeted_announcements")
    starts_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: shown until retracted.")
    dismissible = models.BooleanField(default=True)
    retracted_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    shown_at = models.DateTimeField(null=True, blank=True, editable=False)
    shown_version = models.PositiveIntegerField(null=True, blank=True, editable=False)
    hidden_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_to = models.JSONField(default=list, blank=True, editable=False)

    # The manager proxies the queryset's methods (live()); the cast lets mypy see them without the plugin.
    objects: ClassVar[AnnouncementQuerySet] = cast(AnnouncementQuerySet, AnnouncementQuerySet.as_manager())
    dismissals: RelatedManager[AnnouncementDismissal]  # the reverse of AnnouncementDismissal.announcement

    class Meta:
        ordering = ["-starts_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Render the body to safe HTML and, for an edit, bump the version that browsers compare."""
        self.body_html = rendering.body_html(self.body, markdown=self.body_format == self.BodyFormat.MARKDOWN)
        if self.pk is not None and not kwargs.get("update_fields"):
            self.version += 1
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Refuse an expiry before the start, and a body too large to publish."""
        if self.expires_at is not None and self.starts_at is not None and self.expires_at <= self.starts_at:
            raise ValidationError({"expires_at": "The expiry must be after the start."})
        html = rendering.body_html(self.body, markdown=self.body_format == self.BodyFormat.MARKDOWN)
        size = len(json.dumps({"title": self.title, "body_html": html}).encode()) + 512
        if size > hub_settings.HUB_MAX_EVENT_BYTES:
            raise ValidationError(
                {
                    "body": "Rendered, this is %d bytes; HUB_MAX_EVENT_BYTES allows %d."
                    % (size, hub_settings.HUB_MAX_EVENT_BYTES)
                }
            )

    def is_live(self, now: datetime.datetime) -> bool:
        """Tell whether it should be on screens at ``now``."""
        return (
            self.retracted_at is None and self.starts_at <= now and (self.expires_at is None or now < self.expires_at)
        )

    def state(self, now: datetime.datetime) -> str:
        """Return "live", "scheduled", "expired" or "retracted" at ``now``."""
        if self.retracted_at is not None:
            return "retracted"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        if self.starts_at > now:
            return "scheduled"
        return "live"

    @property
    def is_on_screens(self) -> bool:
        """Whether the last push to browsers was a show."""
        return self.shown_at is not None and self.hidden_at is None


class AnnouncementDismissal(models.Model):
    """A signed-in user closed an announcement; it stays closed on all their tabs and later visits."""

    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="dismissals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    dismissed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["announcement", "user"], name="announcement_dismissed_once")]

    def __str__(self) -> str:
        return f"{self.user} dismissed {self.announcement}"
