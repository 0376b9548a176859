"""The record of a long job: its owner, its state, its result, and the bookkeeping of its run."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from notifications.jobs.storage import job_files


class Job(models.Model):
    """One run of a job task, started by a user from a page."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    FINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    owner_id: int  # the column behind ``owner``, which Django adds
    kind = models.CharField(max_length=64, help_text="The job task's short name, e.g. export_csv.")
    title = models.CharField(max_length=200, help_text="What the pages call the job.")
    params = models.JSONField(default=dict, blank=True, help_text="Keyword arguments of the job task.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(null=True, blank=True)
    percent = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.CharField(max_length=200, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, help_text="Shown to the owner.")
    traceback = models.TextField(blank=True, help_text="Shown to staff only.")
    file = models.FileField(storage=job_files, upload_to="jobs/", blank=True)
    # Bumped by every change that is pushed, so that a page never shows an older state over a newer one.
    version = models.PositiveIntegerField(default=0)
    cancel_requested = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True, help_text="The Celery task id (for revoke).")
    worker_pid = models.PositiveIntegerField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["status", "heartbeat"], name="job_status_heartbeat")]

    def __str__(self) -> str:
        return "Job %s (%s, %s)" % (self.pk, self.kind, self.status)

    @property
    def is_final(self) -> bool:
        """Tell whether the job has ended (succeeded, failed or cancelled)."""
        return self.status in self.FINAL

    def visible_to(self, user: object) -> bool:
        """Tell whether ``user`` may see, follow and cancel this job: its owner or staff."""
        return bool(getattr(user, "is_authenticated", False)) and (
            getattr(user, "is_staff", False) or user.pk == self.owner_id  # type: ignore[attr-defined]
        )
