"""The job lifecycle: each change is one conditional update, then a push of the whole state after commit.

A change applies only from the states it is allowed from (``queued`` -> ``running`` ->
``succeeded``...), so racing writers (the task, a cancel, the sweeper, the worker's
parent process) cannot move a job backwards or end it twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import uuid
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications import publish
from notifications.jobs import topics
from notifications.jobs.models import Job
from notifications.jobs.state import job_state, percent_of

__all__ = [
    "WORKER_LOST",
    "begin_job",
    "cancel_job",
    "delete_expired_jobs",
    "end_cancelled_job",
    "fail_job",
    "fail_lost_jobs",
    "poll_job",
    "report_progress",
    "start_job",
    "succeed_job",
]

logger = logging.getLogger(__name__)

WORKER_LOST = "Worker lost: the process running this job stopped before the job ended."
_LIVE = (Job.Status.QUEUED, Job.Status.RUNNING)


def start_job(
    *, owner: Any, task: Any, title: str, params: dict[str, Any] | None = None, queue: str | None = None
) -> Job:
    """Record a queued job of the job task ``task`` for ``owner``; after commit, push ``job.queued`` and send it."""
    kind = getattr(task, "job_kind", None)
    if not kind:
        raise TypeError("start_job needs a task declared with @job_task, not %r" % (task,))
    options = {"task_id": uuid(), **({"queue": queue} if queue else {})}
    with transaction.atomic():
        job = Job.objects.create(
            owner=owner, kind=kind, title=title[:200], params=params or {}, task_id=options["task_id"]
        )
        _publish(job, topics.QUEUED)
        # Registered after the push: the queued event leaves before a worker can send "started".
        transaction.on_commit(lambda: task.apply_async(args=[job.pk], **options))
    return job


def cancel_job(*, job_id: int) -> Job:
    """Cancel a job: a queued one ends at once (and is revoked), a running one is asked to stop; return it."""
    now = timezone.now()
    with transaction.atomic():
        job = _change(job_id, topics.CANCELLED, where={"status": Job.Status.QUEUED}, status=Job.Status.CANCELLED,
                      cancel_requested=now, finished=now)  # fmt: skip
        if job is not None:
            task_id = job.task_id
            transaction.on_commit(lambda: _revoke(task_id))
        else:
            where = {"status": Job.Status.RUNNING, "cancel_requested__isnull": True}
            job = _change(job_id, topics.CANCEL_REQUESTED, where=where, cancel_requested=now)
    return job or Job.objects.get(pk=job_id)


def begin_job(*, job_id: int, pid: int) -> Job | None:
    """Mark a queued job running in process ``pid``; return it, or None if it is no longer queued."""
    now = timezone.now()
    return _change(job_id, topics.STARTED, where={"status": Job.Status.QUEUED}, status=Job.Status.RUNNING,
                   started=now, heartbeat=now, worker_pid=pid)  # fmt: skip


def report_progress(*, job_id: int, done: int, total: int | None, message: str, to_owner: bool = True) -> Job | None:
    """Record and push a running job's progress; return it, or None if it is no longer running.

    ``to_owner=False`` pushes to the job's topic only, not to the owner's own stream.
    """
    return _change(job_id, topics.PROGRESS, where={"status": Job.Status.RUNNING}, to_owner=to_owner, done=done,
                   total=total, percent=percent_of(done, total), message=message[:200], heartbeat=timezone.now())  # fmt: skip


def poll_job(*, job_id: int, beat: bool) -> Job | None:
    """Return the job's status and cancel request (refreshing its heartbeat if ``beat``); None if it is gone."""
    if beat:
        Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(heartbeat=timezone.now())
    return Job.objects.filter(pk=job_id).only("status", "cancel_requested").first()


def succeed_job(*, job_id: int, result: Any) -> Job | None:
    """End a running job as succeeded with ``result`` (JSON); return it, or None if it was no longer running."""
    job = Job.objects.filter(pk=job_id).only("done", "total").first()
    done = job.total if job is not None and job.total else F("done")
    return _change(job_id, topics.SUCCEEDED, where={"status": Job.Status.RUNNING}, status=Job.Status.SUCCEEDED,
                   result=result, done=done, percent=100, finished=timezone.now())  # fmt: skip


def fail_job(*, job_id: int, error: str, traceback: str = "", stale_before: Any = None) -> Job | None:
    """End a queued or running job as failed; return it, or None if it had already ended.

    ``error`` is shown to the owner, ``traceback`` to staff only; ``stale_before`` fails it only if its
    heartbeat is older.
    """
    where: Any = Q(status__in=_LIVE)
    if stale_before is not None:
        where &= Q(heartbeat__lt=stale_before) | Q(heartbeat__isnull=True)
    return _change(job_id, topics.FAILED, where=where, status=Job.Status.FAILED, error=error[:500],
                   traceback=traceback, finished=timezone.now())  # fmt: skip


def end_cancelled_job(*, job_id: int) -> Job | None:
    """End a running job that stopped at a cancel request; return it, or None if it had already ended."""
    return _change(job_id, topics.CANCELLED, where={"status": Job.Status.RUNNING}, status=Job.Status.CANCELLED,
                   finished=timezone.now())  # fmt: skip


def fail_lost_jobs(*, lost_after: float) -> int:
    """Fail the running jobs whose heartbeat is older than ``lost_after`` seconds; return how many."""
    cutoff = timezone.now() - timedelta(seconds=lost_after)
    stale = Job.objects.filter(Q(heartbeat__lt=cutoff) | Q(heartbeat__isnull=True), status=Job.Status.RUNNING)
    failed = 0
    for job_id in stale.values_list("pk", flat=True):
        if fail_job(job_id=job_id, error=WORKER_LOST, stale_before=cutoff) is not None:
            logger.warning("Job %s had no heartbeat for %s s: failed as worker lost", job_id, lost_after)
            failed += 1
    return failed


def delete_expired_jobs(*, days: int) -> int:
    """Delete the jobs that ended more than ``days`` days ago, with their files; return how many."""
    cutoff = timezone.now() - timedelta(days=days)
    count, _ = Job.objects.filter(status__in=Job.FINAL, finished__lt=cutoff).delete()
    return count


def _change(job_id: int, event: str, *, where: Any, to_owner: bool = True, **changes: Any) -> Job | None:
    """Apply ``changes`` if the job matches ``where``; if it did, push ``event`` after commit and return the job."""
    condition = where if isinstance(where, Q) else Q(**where)
    with transaction.atomic():
        if not Job.objects.filter(condition, pk=job_id).update(version=F("version") + 1, **changes):
            return None
        job = Job.objects.get(pk=job_id)
        _publish(job, event, to_owner=to_owner)
    return job


def _publish(job: Job, event: str, *, to_owner: bool = True) -> None:
    state = job_state(job)
    publish.to_topic(topics.job_topic(job.pk), event, state)
    if to_owner:
        publish.to_user(job.owner_id, event, state)


def _revoke(task_id: str) -> None:
    from celery import current_app as app

    # Belt and braces: a worker that takes the message anyway finds the job cancelled and skips it.
    try:
        app.control.revoke(task_id)
    except OSError as error:
        logger.warning("Could not revoke task %s of a cancelled job (%s); its worker will skip it", task_id, error)
