"""Realtime work has its own queue and worker: long jobs never hold up a dashboard push."""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from conftest import start_process, stop_process, subprocess_env
from notifications import dashboards
from notifications.dashboards.tests.helpers import grant, next_state
from notifications.jobs import services
from tasks.examples import export_csv
from tasks.tests.conftest import hub_for, job_events_until

pytestmark = pytest.mark.django_db(transaction=True)

JOBS, REALTIME = f"jobs-{secrets.token_hex(3)}", f"realtime-{secrets.token_hex(3)}"


def _worker(tmp_path: Path, name: str, queue: str, concurrency: int) -> Any:
    log = tmp_path / f"{name}.log"
    command = [
        sys.executable, "-m", "celery", "-A", "workers", "worker", "--pool", "prefork", "--concurrency",
        str(concurrency), "--without-gossip", "--without-mingle", "--loglevel", "INFO", "--queues", queue,
        "--hostname", f"{name}@%h",
    ]  # fmt: skip
    env = subprocess_env(HUB_REALTIME_QUEUE=REALTIME, CELERY_TASK_DEFAULT_QUEUE=JOBS)
    return start_process(command, log, lambda: log.exists() and b" ready." in log.read_bytes(), name, env=env)


@pytest.fixture
def two_workers(django_db_setup: Any, tmp_path: Path) -> Iterator[None]:
    """A jobs worker (2 processes) and a realtime worker (1), each on a queue of this test only."""
    workers = [_worker(tmp_path, "jobs", JOBS, 2), _worker(tmp_path, "realtime", REALTIME, 1)]
    yield
    for worker in workers:
        stop_process(worker)


@override_settings(HUB_REALTIME_QUEUE=REALTIME)
async def test_a_dashboard_push_overtakes_three_long_jobs(live_hub: Any, two_workers: None, users: dict) -> None:
    """With three long exports filling the jobs worker, an update of a dashboard reaches its page within 2 s."""
    alice = await sync_to_async(grant)(users["alice"])
    async with hub_for(live_hub, alice) as hub:
        jobs = [
            await sync_to_async(services.start_job)(
                owner=alice,
                task=export_csv,
                title=f"long export {n}",
                params={"rows": 200_000, "pace": 2_000},
                queue=JOBS,
            )  # fmt: skip
            for n in range(3)
        ]
        for job in jobs[:2]:  # two run, the third waits for a free process
            await job_events_until(hub, job.pk, statuses=("running",))
        await hub.subscribe("dashboard.sales")
        updated = time.monotonic()
        await sync_to_async(dashboards.update)("sales", orders_today=4242)
        while (await next_state(hub, timeout=10)).get("values", {}).get("orders_today") != 4242:
            pass
        took = time.monotonic() - updated
        for job in jobs:
            await sync_to_async(services.cancel_job)(job_id=job.pk)
    assert took < 2.0, took
