"""The job task runner in this process (eager ``apply``), observed through a real hub client."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from notifications.jobs import services
from notifications.jobs.exceptions import JobError
from notifications.jobs.models import Job
from notifications.jobs.runner import JobTask, job_task
from tasks.examples import export_csv
from tasks.tests.conftest import browser_for, get, hub_for, job_events_until, next_job_event


@job_task
def tight_loop(self: JobTask, n: int) -> dict:
    """Report progress on every one of ``n`` steps."""
    for step in range(1, n + 1):
        self.progress(step, n, "Looping")
    return {"summary": "looped %d times" % n}


@job_task
def silent_until_cancelled(self: JobTask, limit: float) -> None:
    """Work without reporting progress, checking for cancellation, for at most ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        self.check_cancelled()
        time.sleep(0.01)  # one slice of (simulated) work


@job_task
def divides_by_zero(self: JobTask) -> float:
    """A bug in a job."""
    return 1 / 0


@job_task
def refuses(self: JobTask, reason: str) -> None:
    """A job that fails with a message for its owner."""
    raise JobError(reason)


@job_task
def returns_a_set(self: JobTask) -> Any:
    """A job whose result is not JSON."""
    return {1, 2}


def make_job(owner: Any, task: Any, **params: Any) -> Job:
    """Record a queued job of ``task`` without sending it to a worker (the test applies it here)."""
    return Job.objects.create(owner=owner, kind=task.job_kind, title=task.name, params=params)


async def run_here(task: Any, job: Job) -> None:
    """Run ``task`` for ``job`` in this process, as a worker would."""
    await sync_to_async(task.apply, thread_sensitive=False)(args=[job.pk])


async def test_a_tight_loop_is_coalesced_and_the_final_state_always_arrives(live_hub: Any, users: dict) -> None:
    """A million progress calls make a few progress events a second, the owner's stream fewer, and the final state arrives."""
    alice = users["alice"]
    job = await sync_to_async(make_job)(alice, tight_loop, n=1_000_000)
    async with hub_for(live_hub, alice) as owner, hub_for(live_hub, alice) as follower:
        await follower.subscribe(f"job.{job.pk}")
        await run_here(tight_loop, job)
        on_topic = await job_events_until(follower, job.pk, stream=f"job.{job.pk}")
        on_owner_stream = await job_events_until(owner, job.pk)

    names = [frame["event"] for frame in on_topic]
    assert names[0] == "job.started" and names[-1] == "job.succeeded"
    seconds = (on_topic[-1]["ts"] - on_topic[0]["ts"]) / 1000
    progress = [frame["data"] for frame in on_topic if frame["event"] == "job.progress"]
    assert 2 <= len(progress) <= seconds / 0.25 + 2, (len(progress), seconds)
    assert [state["done"] for state in progress] == sorted(state["done"] for state in progress)
    assert on_topic[-1]["data"]["done"] == 1_000_000 and on_topic[-1]["data"]["result"] == {
        "summary": "looped 1000000 times"
    }
    owner_progress = [
        (f["data"]["percent"], f["data"]["message"]) for f in on_owner_stream if f["event"] == "job.progress"
    ]
    assert len(owner_progress) == len(set(owner_progress)) <= len(progress)
    assert on_owner_stream[-1]["data"] == on_topic[-1]["data"]


@override_settings(HUB_JOB_HEARTBEAT=0.1, HUB_JOB_CANCEL_POLL=0.05)
async def test_a_silent_job_keeps_its_heartbeat_and_can_still_be_cancelled(live_hub: Any, users: dict) -> None:
    """A job that reports no progress still beats, and check_cancelled() stops it after a cancel."""
    alice = users["alice"]
    job = await sync_to_async(make_job)(alice, silent_until_cancelled, limit=20)
    async with hub_for(live_hub, alice) as hub:
        running = asyncio.ensure_future(run_here(silent_until_cancelled, job))
        started = (await job_events_until(hub, job.pk, statuses=("running",)))[-1]["data"]
        first_beat = (await Job.objects.aget(pk=job.pk)).heartbeat
        deadline = time.monotonic() + 5
        while (await Job.objects.aget(pk=job.pk)).heartbeat == first_beat:
            assert time.monotonic() < deadline, "the heartbeat never moved"
            await asyncio.sleep(0.05)  # polling the row, bounded by the deadline
        asked = time.monotonic()
        await sync_to_async(services.cancel_job)(job_id=job.pk)
        frames = await job_events_until(hub, job.pk, timeout=5)
        await asyncio.wait_for(running, 5)
    assert started["percent"] is None
    assert [frame["event"] for frame in frames] == ["job.cancel_requested", "job.cancelled"]
    assert time.monotonic() - asked < 1.0


@pytest.mark.parametrize(
    ("task", "params", "error"),
    [
        (divides_by_zero, {}, "The job failed unexpectedly (ZeroDivisionError)."),
        (refuses, {"reason": "The report needs at least one row."}, "The report needs at least one row."),
        (returns_a_set, {}, "The job's result is not JSON: Object of type set is not JSON serializable"),
    ],
)
async def test_a_failing_job_shows_its_owner_a_message_and_staff_the_traceback(
    live_hub: Any, users: dict, task: Any, params: dict, error: str
) -> None:
    """A failed job pushes its message without a traceback; only staff see the traceback of a bug, on its page."""
    alice = users["alice"]
    job = await sync_to_async(make_job)(alice, task, **params)
    async with hub_for(live_hub, alice) as hub:
        await run_here(task, job)
        final = (await job_events_until(hub, job.pk))[-1]
    assert (final["event"], final["data"]["status"], final["data"]["error"]) == ("job.failed", "failed", error)
    assert "Traceback" not in str(final["data"])

    owner_page = await get(await sync_to_async(browser_for)(alice), f"/jobs/{job.pk}/")
    staff_page = await get(await sync_to_async(browser_for)(users["staff"]), f"/jobs/{job.pk}/")
    assert b"Traceback" not in owner_page.content
    assert (b"ZeroDivisionError: division by zero" in staff_page.content) == (task is divides_by_zero)


async def test_a_job_whose_record_ended_elsewhere_stops(live_hub: Any, users: dict) -> None:
    """If the sweeper (or anything) ended the job, its task stops at the next progress report and changes nothing."""
    alice = users["alice"]
    job = await sync_to_async(make_job)(alice, export_csv, rows=100_000, pace=20_000)
    async with hub_for(live_hub, alice) as hub:
        running = asyncio.ensure_future(run_here(export_csv, job))
        await job_events_until(hub, job.pk, statuses=("running",))
        await next_job_event(hub, job.pk)
        await sync_to_async(services.fail_job)(job_id=job.pk, error="ended by hand")
        await asyncio.wait_for(running, 5)
        assert (await next_job_event(hub, job.pk))["data"]["status"] == "failed"
        with pytest.raises(TimeoutError):
            await next_job_event(hub, job.pk, timeout=0.5)
    job = await Job.objects.aget(pk=job.pk)
    assert (job.status, job.error, bool(job.file)) == ("failed", "ended by hand", False)


def test_progress_outside_a_job_run_is_refused() -> None:
    """Calling progress() on a job task outside a worker's run names the mistake."""
    with pytest.raises(RuntimeError, match="only while a job task runs"):
        export_csv.progress(1, 2)


def test_start_job_refuses_a_plain_task(make_user: Any) -> None:
    """start_job needs a @job_task, and says so."""
    from tasks.publishing import notify_user

    with pytest.raises(TypeError, match="@job_task"):
        services.start_job(owner=make_user("alice"), task=notify_user, title="no")
