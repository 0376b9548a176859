"""The topic of a job's live state, ``job.{id}``, and the names of its events.

Every event carries the job's whole state (``notifications.jobs.state.job_state``), so the latest
event is all a page needs: the topic is retained, and a late subscriber gets it first.
"""

from __future__ import annotations

from typing import Any

from notifications.registry import topic

__all__ = [
    "CANCEL_REQUESTED",
    "CANCELLED",
    "EVENTS",
    "FAILED",
    "PROGRESS",
    "QUEUED",
    "STARTED",
    "SUCCEEDED",
    "job_topic",
]

QUEUED = "job.queued"
STARTED = "job.started"
PROGRESS = "job.progress"
CANCEL_REQUESTED = "job.cancel_requested"
SUCCEEDED = "job.succeeded"
FAILED = "job.failed"
CANCELLED = "job.cancelled"
EVENTS = (QUEUED, STARTED, PROGRESS, CANCEL_REQUESTED, SUCCEEDED, FAILED, CANCELLED)

# Each event is the whole state, so trimming history loses nothing: a client resuming from a
# trimmed id gets "reset", then the events kept, the last of which is the current state.
HISTORY = 1000


def job_topic(job_id: int) -> str:
    """Return the topic that carries job ``job_id``'s events."""
    return f"job.{int(job_id)}"


@topic("job.{id}", history=HISTORY, retain=True)
def job(user: Any, id: str) -> bool:
    """The job's owner and staff may follow a job."""
    from notifications.jobs.models import Job

    # Ids beyond 64-bit integers exist in no database column: refuse them before the query.
    if not user.is_authenticated or not id.isdigit() or len(id) > 18:
        return False
    jobs = Job.objects.filter(pk=int(id))
    return jobs.exists() if user.is_staff else jobs.filter(owner=user).exists()
