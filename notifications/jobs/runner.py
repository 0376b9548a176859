"""Job tasks: Celery tasks bound to a ``Job`` record, that report progress and stop when cancelled.

    @job_task
    def count(self, n: int = 100) -> dict:
        for i in range(n):
            self.progress(i + 1, n, "Counting")   # coalesced; raises JobCancelled when asked to stop
        return {"summary": f"counted to {n}"}

    start_job(owner=request.user, task=count, title="Count to 100", params={"n": 100})

The message carries only the job id; the parameters come from the record. Progress is
published at most every HUB_JOB_PROGRESS_INTERVAL seconds (the latest wins) and always
flushed before the final state. A watcher thread refreshes the heartbeat, reads cancel
requests every HUB_JOB_CANCEL_POLL seconds, and flushes progress left pending.
"""

from __future__ import annotations

import contextvars
import json
import logging
import math
import os
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files import File
from django.db import DatabaseError, connection
from django.urls import reverse

from notifications.conf import hub_settings
from notifications.jobs import services
from notifications.jobs.exceptions import JobCancelled, JobError, JobStopped
from notifications.jobs.models import Job
from notifications.jobs.state import percent_of

__all__ = ["JobTask", "job_task"]

logger = logging.getLogger(__name__)

# Seconds between the soft limit (the job fails cleanly) and the hard one (the child is killed).
HARD_LIMIT_GRACE = 30
MAX_RESULT_BYTES = 8 * 1024
UNEXPECTED = "The job failed unexpectedly (%s)."

_current: contextvars.ContextVar[_JobRun] = contextvars.ContextVar("job_run")


class JobTask(Task):
    """The base of ``@job_task`` tasks: ``self.job``, ``self.progress()``, ``self.check_cancelled()``."""

    acks_late = True
    reject_on_worker_lost = False  # a job whose worker died is failed, never run a second time
    ignore_result = True  # the Job record holds the result
    job_kind = ""

    @property
    def job(self) -> Job:
        """The job being run (as it was when it started: read it, do not save it)."""
        return _run().job

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        """Report progress (coalesced, the latest wins); raise JobCancelled if the job was cancelled."""
        _run().progress(done, total, message)

    def check_cancelled(self) -> None:
        """Raise JobCancelled if the job was cancelled (for stretches of work without progress)."""
        _run().check()

    def attach_file(self, name: str, content: Any) -> str:
        """Store ``content`` (a file object) as the job's file; return the URL its owner downloads it from."""
        job = _run().job
        job.file.save(name, File(content), save=False)
        Job.objects.filter(pk=job.pk).update(file=job.file.name)
        return reverse("jobs:download", args=[job.pk])


def job_task(fun: Callable[..., Any] | None = None, *, kind: str | None = None, **options: Any) -> Any:
    """Declare a job task: ``fun(self, **params)`` runs for a Job; its return value (JSON) is the result.

    ``kind`` names the job (default: the function's name); other options go to ``shared_task``.
    """

    def declare(fun: Callable[..., Any]) -> Any:
        def run(self: JobTask, job_id: int) -> Any:
            return _execute(self, job_id, fun)

        # Named after fun, without __wrapped__: Celery checks calls against run's own signature.
        for attribute in ("__name__", "__qualname__", "__module__", "__doc__"):
            setattr(run, attribute, getattr(fun, attribute))
        options.setdefault("soft_time_limit", hub_settings.HUB_JOB_MAX_RUNTIME)
        options.setdefault("time_limit", hub_settings.HUB_JOB_MAX_RUNTIME + HARD_LIMIT_GRACE)
        return shared_task(bind=True, base=JobTask, job_kind=kind or fun.__name__, **options)(run)

    return declare(fun) if fun is not None else declare


def _run() -> _JobRun:
    try:
        return _current.get()
    except LookupError:
        raise RuntimeError("job task methods work only while a job task runs in a worker") from None


def _execute(task: JobTask, job_id: int, body: Callable[..., Any]) -> Any:
    job = services.begin_job(job_id=job_id, pid=os.getpid())
    if job is None:
        logger.info("Job %s is no longer queued (cancelled, or delivered twice): not running it", job_id)
        return None
    run = _JobRun(job)
    token = _current.set(run)
    run.watch()
    try:
        result = body(task, **job.params)
        _check_result(result)
    except JobCancelled:
        run.stop()
        services.end_cancelled_job(job_id=job_id)
        return None
    except JobStopped:
        logger.info("Job %s ended elsewhere while running; stopped", job_id)
        return None
    except JobError as error:
        run.stop()
        services.fail_job(job_id=job_id, error=str(error))
        return None
    except SoftTimeLimitExceeded:
        run.stop()
        services.fail_job(
            job_id=job_id, error="The job took longer than %s seconds." % hub_settings.HUB_JOB_MAX_RUNTIME
        )
        return None
    except Exception as error:
        # The job's own bug: the owner sees its kind, staff the traceback; Celery logs it too.
        run.stop()
        services.fail_job(job_id=job_id, error=UNEXPECTED % type(error).__name__, traceback=traceback.format_exc())
        raise
    finally:
        run.stop()
        _current.reset(token)
    services.succeed_job(job_id=job_id, result=result)
    return result


def _check_result(result: Any) -> None:
    try:
        size = len(json.dumps(result, allow_nan=False).encode())
    except (TypeError, ValueError) as error:
        raise JobError("The job's result is not JSON: %s" % error) from error
    if size > MAX_RESULT_BYTES:
        raise JobError(
            "The job's result is %d bytes; results are at most %d (attach a file instead)." % (size, MAX_RESULT_BYTES)
        )


class _JobRun:
    """One running job in this process: coalesced progress, and the watcher thread's findings."""

    def __init__(self, job: Job, clock: Callable[[], float] = time.monotonic):
        self.job = job
        self.clock = clock
        self.interval = hub_settings.HUB_JOB_PROGRESS_INTERVAL
        self.lock = threading.Lock()  # one flush at a time: the task's thread or the watcher
        self.pending: tuple[int, int | None, str] | None = None
        self.last_flush = -math.inf
        self.owner_view: tuple[int | None, str] | None = None  # last (percent, message) on the owner's stream
        self.cancelled = threading.Event()
        self.ended = threading.Event()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def progress(self, done: int, total: int | None, message: str) -> None:
        """Keep the latest values; publish them if HUB_JOB_PROGRESS_INTERVAL passed since the last publish."""
        self.check()
        if isinstance(done, bool) or not isinstance(done, int) or done < 0:
            raise ValueError("progress done must be an int >= 0, not %r" % (done,))
        if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total <= 0):
            raise ValueError("progress total must be an int > 0 or None, not %r" % (total,))
        if not isinstance(message, str):
            raise ValueError("progress message must be a string, not %r" % (message,))
        with self.lock:
            self.pending = (done, total, message)
            if self.clock() - self.last_flush >= self.interval:
                self._flush()
        self.check()

    def check(self) -> None:
        """Raise JobCancelled or JobStopped if the watcher or a publish found the job cancelled or ended."""
        if self.cancelled.is_set():
            raise JobCancelled("job %s was cancelled" % self.job.pk)
        if self.ended.is_set():
            raise JobStopped("job %s is no longer running" % self.job.pk)

    def watch(self) -> None:
        """Start the watcher thread: heartbeat, cancel requests, progress left pending."""
        self.thread = threading.Thread(target=self._watch, name="job-%s-watcher" % self.job.pk, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop the watcher and flush the progress still pending (idempotent)."""
        self.stopping.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join()
        with self.lock:
            self._flush()

    def _flush(self) -> None:
        if self.pending is None or self.ended.is_set():
            return
        done, total, message = self.pending
        self.pending = None
        self.last_flush = self.clock()
        # The owner's stream (shared by every feature, with a bounded history) gets a progress
        # event only when what a list shows changes; the job's own topic gets each one.
        view = (percent_of(done, total), message)
        job = services.report_progress(job_id=self.job.pk, done=done, total=total, message=message,
                                       to_owner=view != self.owner_view)  # fmt: skip
        if job is None:
            self.ended.set()
            return
        self.owner_view = view
        if job.cancel_requested is not None:
            self.cancelled.set()

    def _watch(self) -> None:
        last_beat = self.clock()
        try:
            while not self.stopping.wait(hub_settings.HUB_JOB_CANCEL_POLL):
                beat = self.clock() - last_beat >= hub_settings.HUB_JOB_HEARTBEAT
                try:
                    self._look(beat)
                except DatabaseError:
                    logger.warning("Job %s: could not read its record; trying again", self.job.pk, exc_info=True)
                    continue
                if beat:
                    last_beat = self.clock()
        finally:
            connection.close()  # this thread's own connection

    def _look(self, beat: bool) -> None:
        record = services.poll_job(job_id=self.job.pk, beat=beat)
        if record is None or record.status != Job.Status.RUNNING:
            self.ended.set()
        elif record.cancel_requested is not None:
            self.cancelled.set()
        with self.lock:
            if self.pending is not None and self.clock() - self.last_flush >= self.interval:
                self._flush()
