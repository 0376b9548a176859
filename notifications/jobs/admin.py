"""Job records in the Django admin: filter by status, progress and owner; cancel from a list."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from notifications.jobs import services
from notifications.jobs.models import Job


class ProgressFilter(admin.SimpleListFilter):
    """Filter jobs by how far they got."""

    title = "progress"
    parameter_name = "progress"
    _RANGES = {"0-24": (0, 24), "25-49": (25, 49), "50-74": (50, 74), "75-99": (75, 99), "100": (100, 100)}

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        """Offer "no total" and five percentage ranges."""
        return [("unknown", "no total")] + [(key, "%s%%" % key) for key in self._RANGES]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Job]) -> QuerySet[Job]:
        """Return the jobs in the chosen range (all jobs if none is chosen)."""
        value = self.value()
        if value == "unknown":
            return queryset.filter(percent__isnull=True)
        if value in self._RANGES:
            low, high = self._RANGES[value]
            return queryset.filter(Q(percent__gte=low, percent__lte=high))
        return queryset


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Jobs are written by their tasks: the admin reads them, and may cancel or delete them."""

    list_display = ("id", "title", "kind", "owner", "status", "percent", "message", "created", "finished")
    list_filter = ("status", ProgressFilter, ("owner", admin.RelatedOnlyFieldListFilter), "kind", "created")
    search_fields = ("title", "owner__username", "task_id")
    date_hierarchy = "created"
    list_select_related = ("owner",)
    actions = ["cancel_jobs"]
    readonly_fields = [field.name for field in Job._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Jobs are started from their pages, never added by hand."""
        return False

    @admin.action(description="Cancel selected jobs")
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        """Cancel each selected job that has not ended."""
        live = list(queryset.filter(status__in=(Job.Status.QUEUED, Job.Status.RUNNING)).values_list("pk", flat=True))
        for job_id in live:
            services.cancel_job(job_id=job_id)
        self.message_user(request, "Asked %d job(s) to cancel." % len(live), messages.SUCCESS)
