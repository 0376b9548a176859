"""The admin of announcements: saving pushes at once; the list shows dismissals and deliveries."""

from __future__ import annotations

import logging
from typing import Any

import redis
from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from notifications import metrics
from notifications.announcements import events, services
from notifications.announcements.models import Announcement

logger = logging.getLogger(__name__)


class AnnouncementForm(forms.ModelForm):
    """The announcement form: "only chosen" needs someone chosen."""

    class Meta:
        model = Announcement
        fields = "__all__"
        # The browser's own date and time picker: one labelled input, where the admin's split
        # date and time boxes have no label for screen readers (axe-core: "label", critical).
        widgets = {
            "audience": forms.RadioSelect,
            "body_format": forms.RadioSelect,
            "level": forms.RadioSelect,
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1}, format="%Y-%m-%dT%H:%M:%S"),
            "expires_at": forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1}, format="%Y-%m-%dT%H:%M:%S"),
        }
        field_classes = {"starts_at": forms.DateTimeField, "expires_at": forms.DateTimeField}

    def clean(self) -> dict[str, Any]:
        """Refuse an audience of chosen groups and users with nobody chosen."""
        super().clean()
        data = self.cleaned_data
        chosen = data.get("audience") == Announcement.Audience.CHOSEN
        if chosen and not data.get("groups") and not data.get("users"):
            raise forms.ValidationError("Choose at least one group or user, or another audience.")
        return data


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    """Staff post, edit, retract and delete announcements here; each save reaches browsers at once."""

    form = AnnouncementForm
    list_display = (
        "title", "level", "audience_summary", "state", "starts_at", "expires_at", "dismissals", "sent_to_connections",
    )  # fmt: skip
    list_filter = ("level", "audience", "dismissible")
    search_fields = ("title", "body")
    # Neither autocomplete_fields nor filter_horizontal: their search boxes have no label for
    # screen readers (axe-core: "label", critical). Groups are few and get a plain multiple
    # select; users are picked by id, with the lookup.
    raw_id_fields = ("users",)
    date_hierarchy = "starts_at"
    actions = ("retract", "publish_now")
    readonly_fields = (
        "state", "version", "dismissals", "sent_to_connections", "shown_at", "hidden_at", "retracted_at", "created_by",
    )  # fmt: skip
    fieldsets = (
        (None, {"fields": ("title", "body", "body_format", "level", "dismissible")}),
        ("Audience", {"fields": ("audience", "groups", "users")}),
        ("Schedule", {"fields": ("starts_at", "expires_at")}),
        ("Delivery", {"fields": readonly_fields}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Announcement]:
        """Count dismissals in the same query; fetch audiences once."""
        queryset = super().get_queryset(request)
        return queryset.annotate(dismissal_count=Count("dismissals", distinct=True)).prefetch_related("groups", "users")

    def save_model(self, request: HttpRequest, obj: Announcement, form: Any, change: bool) -> None:
        """Record who created it."""
        if not change:
            obj.created_by_id = request.user.pk
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Push after the audiences (many-to-many) are saved; the events leave after commit."""
        super().save_related(request, form, formsets, change)
        state = services.publish_changes(announcement=form.instance)
        self.message_user(request, _STATE_MESSAGES[state] % {"title": form.instance.title})

    def delete_model(self, request: HttpRequest, obj: Announcement) -> None:
        """Hide it from the screens that show it, then delete it."""
        services.delete_announcement(announcement=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Announcement]) -> None:
        """Hide each from the screens that show it, then delete them."""
        for announcement in queryset:
            services.delete_announcement(announcement=announcement)

    @admin.action(description="Retract: remove from every screen now")
    def retract(self, request: HttpRequest, queryset: QuerySet[Announcement]) -> None:
        """Retract the selected announcements."""
        done = sum(services.retract(announcement=announcement) for announcement in queryset)
        self.message_user(request, "Retracted %d announcement(s)." % done)

    @admin.action(description="Publish now: show on every targeted screen now")
    def publish_now(self, request: HttpRequest, queryset: QuerySet[Announcement]) -> None:
        """Make the selected announcements live now; expired ones are skipped and named."""
        skipped = [a.title for a in queryset if not services.publish_now(announcement=a)]
        self.message_user(request, "Published %d announcement(s) now." % (len(queryset) - len(skipped)))
        if skipped:
            names = ", ".join(repr(title) for title in skipped)
            self.message_user(request, "Skipped %s: expired (change the expiry first)." % names, messages.WARNING)

    @admin.display(description="audience")
    def audience_summary(self, obj: Announcement) -> str:
        """Return who gets it, e.g. "staff + editors, @alice"."""
        chosen = [group.name for group in obj.groups.all()] + ["@" + user.get_username() for user in obj.users.all()]
        base = {
            Announcement.Audience.EVERYONE: "everyone",
            Announcement.Audience.AUTHENTICATED: "signed-in users",
            Announcement.Audience.STAFF: "staff",
        }.get(Announcement.Audience(obj.audience))
        if base in ("everyone", "signed-in users"):
            return base
        return " + ".join(part for part in (base, ", ".join(chosen)) if part) or "nobody"

    @admin.display(description="state")
    def state(self, obj: Announcement) -> str:
        """Return live, scheduled, expired or retracted."""
        return obj.state(timezone.now())

    @admin.display(description="dismissed by", ordering="dismissal_count")
    def dismissals(self, obj: Announcement) -> str:
        """Return how many users dismissed it."""
        count = getattr(obj, "dismissal_count", None)
        if count is None:
            count = obj.dismissals.count()
        return "%d user%s" % (count, "" if count == 1 else "s")

    @admin.display(description="sent to")
    def sent_to_connections(self, obj: Announcement) -> str:
        """Return to how many open connections this version was sent, live or on connect."""
        if obj.pk is None:
            return "-"
        try:
            count = metrics.receipts(events.receipt_key(obj))
        except redis.RedisError as error:
            logger.warning("Could not read the receipts of announcement %s: %s", obj.pk, error)
            return "unknown (Redis unreachable)"
        return "%d connection%s (v%d)" % (count, "" if count == 1 else "s", obj.version)


_STATE_MESSAGES = {
    "live": "“%(title)s” is live: pushed to its audience's open pages.",
    "scheduled": "“%(title)s” is scheduled: it goes out at its start time.",
    "expired": "“%(title)s” has expired: it is not shown.",
    "retracted": "“%(title)s” is retracted: it is not shown.",
}
