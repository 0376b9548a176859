"""Signal receivers: jobs whose process died, and the files of deleted jobs (connected in ``JobsConfig.ready``)."""

from __future__ import annotations

import logging
from typing import Any

from billiard.exceptions import WorkerLostError
from celery.exceptions import TimeLimitExceeded
from django.db import close_old_connections, transaction

from notifications.conf import hub_settings
from notifications.jobs import services
from notifications.jobs.models import Job

logger = logging.getLogger(__name__)


def fail_job_of_failed_task(sender: Any = None, args: Any = None, exception: Any = None, **kwargs: Any) -> None:
    """On ``task_failure`` of a job task, fail its job if the task could not (its process was killed).

    In the worker's main process this catches a killed pool child (WorkerLostError) and the hard
    time limit; for errors the task handled itself, the job has already ended and nothing changes.
    """
    from notifications.jobs.runner import JobTask

    if not isinstance(sender, JobTask) or not args:
        return
    close_old_connections()  # the worker's main process keeps its connection between tasks
    if isinstance(exception, WorkerLostError):
        error = services.WORKER_LOST
    elif isinstance(exception, TimeLimitExceeded):
        error = "The job took longer than %s seconds and was stopped." % hub_settings.HUB_JOB_MAX_RUNTIME
    else:
        error = "The job failed unexpectedly (%s)." % type(exception).__name__
    if services.fail_job(job_id=args[0], error=error) is not None:
        logger.warning("Job %s failed outside its task (%r)", args[0], exception)


def delete_job_file(sender: Any = None, instance: Job | None = None, **kwargs: Any) -> None:
    """After a job record is deleted (retention, admin, its owner's deletion), delete its file once committed."""
    if instance is None or not instance.file.name:  # what ``not instance.file`` tests
        return
    storage, name = instance.file.storage, instance.file.name
    transaction.on_commit(lambda: storage.delete(name))
