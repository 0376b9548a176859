"""A job whose worker dies is reported failed ("worker lost") within the configured bound, never left running."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone

from conftest import start_process, stop_process, subprocess_env
from notifications.jobs import services
from notifications.jobs.models import Job
from notifications.jobs.tasks import sweep_lost_jobs
from tasks.examples import export_csv
from tasks.tests.conftest import hub_for, job_events_until, next_job_event

# The whole-worker test's own bound: its worker beats every 0.2 s, the sweeper calls it lost after 1 s.
HEARTBEAT, LOST_AFTER = 0.2, 1.0


@dataclass
class Worker:
    """A Celery worker of this test alone, on its own queue."""

    process: Any
    queue: str
    log: Path


@pytest.fixture
def own_worker(django_db_setup: Any, tmp_path: Path) -> Iterator[Worker]:
    """Start a one-child Celery worker on a fresh queue, beating often; stop it (if still alive) after."""
    queue = f"lost-{secrets.token_hex(4)}"
    log = tmp_path / "worker.log"
    command = [
        sys.executable, "-m", "celery", "-A", "workers", "worker", "--pool", "prefork", "--concurrency", "1",
        "--without-gossip", "--without-mingle", "--loglevel", "INFO", "--queues", queue,
    ]  # fmt: skip
    env = subprocess_env(CELERY_TASK_DEFAULT_QUEUE=queue, HUB_JOB_HEARTBEAT=str(HEARTBEAT))
    ready = lambda: log.exists() and b" ready." in log.read_bytes()  # noqa: E731
    process = start_process(command, log, ready, "Celery worker", env=env)
    yield Worker(process, queue, log)
    stop_process(process)


@contextlib.contextmanager
def beat_running_the_sweeper(tmp_path: Path, period: float = 0.2) -> Iterator[None]:
    """Run the project's real Celery beat, whose lost-job sweep runs in beat itself, every ``period`` seconds."""
    log = tmp_path / "beat.log"
    command = [
        sys.executable, "-m", "celery", "-A", "workers", "beat", "--loglevel", "INFO",
        "--schedule", str(tmp_path / "celerybeat-schedule"),
    ]  # fmt: skip
    env = subprocess_env(HUB_JOB_SWEEP_INTERVAL=str(period), HUB_JOB_LOST_AFTER=str(LOST_AFTER),
                         HUB_JOB_HEARTBEAT=str(HEARTBEAT))  # fmt: skip
    ready = lambda: log.exists() and b"run in beat itself: jobs-sweep-lost" in log.read_bytes()  # noqa: E731
    process = start_process(command, log, ready, "Celery beat", env=env)
    try:
        yield
    finally:
        stop_process(process)


async def start_running_job(hub: Any, owner: Any, queue: str) -> Job:
    """Start a long export on ``queue`` and return it once it has reported progress."""
    job = await sync_to_async(services.start_job)(
        owner=owner, task=export_csv, title="long export", params={"rows": 100_000, "pace": 5_000}, queue=queue
    )
    await job_events_until(hub, job.pk, statuses=("running",))
    assert (await next_job_event(hub, job.pk))["event"] == "job.progress"
    return await Job.objects.aget(pk=job.pk)


async def test_killed_pool_child_fails_the_job(live_hub: Any, own_worker: Worker, users: dict) -> None:
    """Killing the process running a job reports it failed, worker lost, within HUB_JOB_LOST_AFTER."""
    alice = users["alice"]
    async with hub_for(live_hub, alice) as hub:
        job = await start_running_job(hub, alice, own_worker.queue)
        assert job.worker_pid not in (None, own_worker.process.pid)
        killed = time.monotonic()
        os.kill(job.worker_pid, signal.SIGKILL)
        frames = await job_events_until(hub, job.pk, timeout=settings.HUB_JOB_LOST_AFTER)
        took = time.monotonic() - killed

    final = frames[-1]
    assert (final["event"], final["data"]["status"]) == ("job.failed", "failed")
    assert final["data"]["error"].startswith("Worker lost") and took < settings.HUB_JOB_LOST_AFTER
    assert "Traceback" not in str(final["data"])


async def test_killed_worker_is_swept_after_its_heartbeat_stops(
    live_hub: Any, own_worker: Worker, users: dict, tmp_path: Path
) -> None:
    """With every worker killed mid-job, beat's own sweep fails the job within LOST_AFTER + one sweep period."""
    alice = users["alice"]
    async with hub_for(live_hub, alice) as hub:
        job = await start_running_job(hub, alice, own_worker.queue)
        running_since = time.monotonic()
        while time.monotonic() - running_since < 2 * LOST_AFTER:
            assert (await next_job_event(hub, job.pk))["event"] == "job.progress"
        assert await sync_to_async(services.fail_lost_jobs)(lost_after=LOST_AFTER) == 0

        # The main process first, so that nothing is left to notice its child dying.
        os.kill(own_worker.process.pid, signal.SIGKILL)
        os.kill(job.worker_pid, signal.SIGKILL)
        killed = time.monotonic()
        with beat_running_the_sweeper(tmp_path):
            frame = (await job_events_until(hub, job.pk, timeout=LOST_AFTER + 30))[-1]
        took = time.monotonic() - killed

    # Beat's own start-up (a few seconds on a busy machine) counts here too; the bound proper is LOST_AFTER + 0.2.
    assert took < LOST_AFTER + 15, took
    assert (frame["event"], frame["data"]["status"]) == ("job.failed", "failed")
    assert frame["data"]["error"] == services.WORKER_LOST


def test_sweeper_fails_only_jobs_without_a_recent_heartbeat(make_user: Any) -> None:
    """The periodic sweeper fails a running job silent for HUB_JOB_LOST_AFTER, and leaves live and queued ones."""
    alice = make_user("alice")
    now = timezone.now()
    stale_at = now - timedelta(seconds=settings.HUB_JOB_LOST_AFTER + 1)
    silent = Job.objects.create(owner=alice, kind="k", title="silent", status="running", heartbeat=stale_at)
    alive = Job.objects.create(owner=alice, kind="k", title="alive", status="running", heartbeat=now)
    queued = Job.objects.create(owner=alice, kind="k", title="queued", created=stale_at)

    assert sweep_lost_jobs() == 1
    statuses = {job.title: (job.status, job.error) for job in Job.objects.all()}
    assert statuses == {"silent": ("failed", services.WORKER_LOST), "alive": ("running", ""), "queued": ("queued", "")}
    assert sweep_lost_jobs() == 0
    assert {silent.pk, alive.pk, queued.pk} == set(Job.objects.values_list("pk", flat=True))
