"""Job pages in headless chromium: when their stream is reset, they read the state over HTTP.

Plain sync tests: Playwright's sync API cannot run inside pytest-asyncio's loop. No Celery:
the tests move jobs with the services a worker calls.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest

from notifications import groups
from notifications.jobs import services, topics
from notifications.jobs.models import Job
from notifications.tests.browser import SocketRelay, log_in, lose_history

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not importable").expect

if TYPE_CHECKING:
    from playwright.sync_api import Page


def running_job(owner: Any, title: str) -> Job:
    """Return a job of ``owner`` that a worker has begun (its ``job.started`` pushed), without Celery."""
    job = Job.objects.create(owner=owner, kind="export_csv", title=title)
    services.begin_job(job_id=job.pk, pid=os.getpid())
    return job


def test_a_job_page_reads_the_state_when_its_topic_is_reset(
    orm_beside_playwright: None, live_hub: Any, make_user: Any, page: Page
) -> None:
    """Progress reported while the socket was down, and the topic's history lost: the page shows it, unreloaded."""
    alice = make_user("alice")
    job = running_job(alice, "Export")
    relay = SocketRelay(page)
    log_in(page, live_hub.http_url, "alice")
    page.goto(f"{live_hub.http_url}/jobs/{job.pk}/")
    item = page.locator(".jobs .job")
    expect(item).to_have_attribute("data-live", "subscribed")
    expect(item).to_have_attribute("data-status", "running")
    page.evaluate("window.notReloaded = true")
    reads: list[str] = []
    page.on("request", lambda request: f"/jobs/{job.pk}/state/" in request.url and reads.append(request.url))

    def while_away() -> None:
        services.report_progress(job_id=job.pk, done=30, total=40, message="Writing rows")
        lose_history(groups.topic_group(topics.job_topic(job.pk)), groups.user_group(alice.pk))

    relay.drop(page, while_away)

    expect(item.locator(".job-percent")).to_have_text("75%")
    expect(item.locator(".job-message")).to_have_text("Writing rows")
    assert page.evaluate("window.notReloaded") is True
    assert len(reads) == 1, reads


def test_my_jobs_reads_the_states_when_the_user_stream_is_reset(
    orm_beside_playwright: None, live_hub: Any, make_user: Any, page: Page
) -> None:
    """A job started and one finished while the socket was down, the history lost: "my jobs" shows both, unreloaded."""
    alice = make_user("alice")
    first = running_job(alice, "First")
    relay = SocketRelay(page)
    log_in(page, live_hub.http_url, "alice")
    page.goto(f"{live_hub.http_url}/jobs/")
    expect(page.locator("#jobs")).to_have_attribute("data-live", "listening")
    expect(page.locator("#jobs .job")).to_have_count(1)
    page.wait_for_function("() => window.hub.state === 'open'")  # it holds the stream's position from hello on
    page.evaluate("window.notReloaded = true")
    reads: list[str] = []
    page.on("request", lambda request: request.url.endswith("/jobs/state/") and reads.append(request.url))
    added: list[Job] = []

    def while_away() -> None:
        services.succeed_job(job_id=first.pk, result={"summary": "40 rows"})
        added.append(running_job(alice, "Second"))
        lose_history(groups.user_group(alice.pk))

    relay.drop(page, while_away)

    jobs = page.locator("#jobs .job")
    expect(jobs).to_have_count(2)
    expect(jobs.first.locator(".job-title")).to_have_text("Second")
    expect(jobs.first).to_have_attribute("data-status", "running")
    expect(jobs.last).to_have_attribute("data-status", "succeeded")
    expect(jobs.last.locator(".job-result")).to_have_text("40 rows")
    assert page.evaluate("window.notReloaded") is True
    assert len(reads) == 1, reads
