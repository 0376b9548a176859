"""Jobs end to end: started from their views, run by a real Celery worker, watched over a real hub."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from notifications import protocol
from notifications.client import HubError
from notifications.jobs import services
from notifications.jobs.models import Job
from notifications.jobs.state import STATE_KEYS
from tasks.examples import export_csv
from tasks.tests.conftest import browser_for, get, hub_for, job_events_until, job_id_of, next_job_event, post


async def test_export_started_from_its_view_reports_every_step(live_hub: Any, celery_worker: Any, users: dict) -> None:
    """The owner's socket sees queued, started, progress never going backwards, then succeeded with a download."""
    alice = users["alice"]
    browser = await sync_to_async(browser_for)(alice)
    async with hub_for(live_hub, alice) as hub:
        job_id = job_id_of(await post(browser, "/jobs/export/", {"rows": 2000, "pace": 1000}))
        frames = await job_events_until(hub, job_id)

    names = [frame["event"] for frame in frames]
    assert names[:2] == ["job.queued", "job.started"] and names[-1] == "job.succeeded", names
    assert set(names[2:-1]) == {"job.progress"} and len(names[2:-1]) >= 3, names
    states = [frame["data"] for frame in frames]
    assert all(tuple(state) == STATE_KEYS for state in states)
    for key in ("version", "done", "percent"):
        values = [state[key] or 0 for state in states]
        assert values == sorted(values), (key, values)
    assert any(0 < state["percent"] < 100 and state["eta_seconds"] is not None for state in states[2:-1])
    final = states[-1]
    assert (final["status"], final["percent"], final["done"], final["total"]) == ("succeeded", 100, 2000, 2000)
    assert final["result"]["url"] == f"/jobs/{job_id}/download/"
    assert final["result"]["summary"].startswith("2,000 rows")

    assert (await get(browser, f"/jobs/{job_id}/state/")).json() == final
    download = await get(browser, final["result"]["url"])
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[0] == ["order", "placed", "customer", "country", "amount"] and len(rows) == 2001


async def test_cancel_mid_run_stops_the_task(live_hub: Any, celery_worker: Any, users: dict) -> None:
    """A running job cancelled from its page ends as cancelled within 2 s, stops working and frees its worker."""
    alice = users["alice"]
    browser = await sync_to_async(browser_for)(alice)
    async with hub_for(live_hub, alice) as hub:
        job_id = job_id_of(await post(browser, "/jobs/export/", {"rows": 100_000, "pace": 10_000}))
        await job_events_until(hub, job_id, statuses=("running",))
        await next_job_event(hub, job_id)  # a progress event: the job is working
        asked = time.monotonic()
        answer = await post(browser, f"/jobs/{job_id}/cancel/", HTTP_ACCEPT="application/json")
        assert answer.status_code == 200 and answer.json()["cancel_requested"] is True
        frames = await job_events_until(hub, job_id, timeout=5)
        took = time.monotonic() - asked

        final = frames[-1]["data"]
        assert final["status"] == "cancelled" and took < 2.0, (final, took)
        assert 0 < final["done"] < 100_000
        with pytest.raises(TimeoutError):
            await next_job_event(hub, job_id, timeout=1.0)  # nothing more from that job
        job = await Job.objects.aget(pk=job_id)
        assert (job.status, job.done, bool(job.file)) == ("cancelled", final["done"], False)
        assert (await get(browser, f"/jobs/{job_id}/download/")).status_code == 404

        # The worker runs one task at a time: a new job can only finish if the cancelled one stopped.
        second = job_id_of(await post(browser, "/jobs/export/", {"rows": 10, "pace": 0}))
        assert (await job_events_until(hub, second, timeout=10))[-1]["data"]["status"] == "succeeded"


async def test_queued_job_is_cancelled_at_once_by_staff(live_hub: Any, users: dict) -> None:
    """Staff cancel a job still waiting in its queue: it ends as cancelled at once and never runs."""
    alice = users["alice"]
    async with hub_for(live_hub, alice) as hub:
        job = await sync_to_async(services.start_job)(
            owner=alice, task=export_csv, title="waits", params={"rows": 10}, queue="nobody-consumes-this"
        )
        assert (await next_job_event(hub, job.pk))["event"] == "job.queued"
        staff = await sync_to_async(browser_for)(users["staff"])
        answer = await post(staff, f"/jobs/{job.pk}/cancel/")
        assert answer.status_code == 302
        frame = await next_job_event(hub, job.pk, timeout=5)
        assert (frame["event"], frame["data"]["status"]) == ("job.cancelled", "cancelled")

    # Were a worker to take the message anyway, it would skip the job.
    await sync_to_async(export_csv.apply)(args=[job.pk])
    job = await Job.objects.aget(pk=job.pk)
    assert (job.status, job.started, job.done) == ("cancelled", None, 0)


async def test_others_cannot_follow_or_cancel_and_late_subscribers_get_the_state(
    live_hub: Any, celery_worker: Any, users: dict
) -> None:
    """Bob and visitors are refused the job's topic and pages; the owner and staff subscribing late get its state first."""
    alice, bob = users["alice"], users["bob"]
    owner = await sync_to_async(browser_for)(alice)
    async with hub_for(live_hub, alice) as hub:
        job_id = job_id_of(await post(owner, "/jobs/export/", {"rows": 50, "pace": 0}))
        final = (await job_events_until(hub, job_id))[-1]["data"]
    assert final["status"] == "succeeded"

    topic = f"job.{job_id}"
    for intruder, name in [(bob, topic), (None, topic), (alice, "job.99999999999999999999999"), (alice, "job.x")]:
        async with hub_for(live_hub, intruder) as other:
            with pytest.raises(HubError) as refused:
                await other.subscribe(name)
            assert refused.value.code == protocol.FORBIDDEN
    other = await sync_to_async(browser_for)(bob)
    for method, url in [(post, "cancel/"), (get, "state/"), (get, "download/"), (get, "")]:
        assert (await method(other, f"/jobs/{job_id}/{url}")).status_code == 404, url
    assert (await get(other, "/jobs/")).content.count(b'"id": %d' % job_id) == 0

    for watcher in (alice, users["staff"]):
        async with hub_for(live_hub, watcher) as late:
            await late.subscribe(topic)
            frame = await asyncio.wait_for(late.next_event(), 10)
            assert (frame["topic"], frame["event"], frame["data"]) == (topic, "job.succeeded", final)
    assert (await get(owner, f"/jobs/{job_id}/state/")).json() == final
