"""The one shape of a job's state: the pages, the JSON endpoint and every push use it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from notifications.jobs.models import Job

__all__ = ["STATE_KEYS", "job_state", "percent_of"]

STATE_KEYS = (
    "id", "kind", "title", "status", "percent", "done", "total", "message", "eta_seconds", "result",
    "error", "cancel_requested", "version", "url", "created", "started", "finished",
)  # fmt: skip


def job_state(job: Job) -> dict[str, Any]:
    """Return the JSON-ready state of ``job`` (never its traceback: pushes reach non-staff owners)."""
    return {
        "id": job.pk,
        "kind": job.kind,
        "title": job.title,
        "status": job.status,
        "percent": 100 if job.status == Job.Status.SUCCEEDED else job.percent,
        "done": job.done,
        "total": job.total,
        "message": job.message,
        "eta_seconds": _eta_seconds(job),
        "result": job.result,
        "error": job.error,
        "cancel_requested": job.cancel_requested is not None,
        "version": job.version,
        "url": reverse("jobs:detail", args=[job.pk]),
        "created": _iso(job.created),
        "started": _iso(job.started),
        "finished": _iso(job.finished),
    }


def percent_of(done: int, total: int | None) -> int | None:
    """Return the whole percentage ``done`` is of ``total`` (capped at 100), or None without a total."""
    if not total:
        return None
    return min(100, done * 100 // total)


def _eta_seconds(job: Job) -> int | None:
    # Linear: the rate so far, applied to what is left.
    if job.status != Job.Status.RUNNING or not job.total or not job.done or not job.started:
        return None
    elapsed = (timezone.now() - job.started).total_seconds()
    return max(0, round(elapsed * (job.total - job.done) / job.done))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
