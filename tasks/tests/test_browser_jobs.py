"""The jobs pages and hub.js in headless chromium, against a live Daphne and a real Celery worker.

Plain sync tests: Playwright's sync API cannot run inside pytest-asyncio's loop.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from notifications.tests.browser import log_in

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not importable").expect

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Records every value a progress bar shows, from before the page's own scripts run.
RECORD_PROGRESS = """
window.progressSeen = [];
new MutationObserver((changes) => {
  for (const change of changes) {
    if (change.target.matches && change.target.matches(".job-bar[aria-valuenow]")) {
      window.progressSeen.push(Number(change.target.getAttribute("aria-valuenow")));
    }
  }
}).observe(document, {attributes: true, attributeFilter: ["aria-valuenow"], subtree: true});
"""


def test_export_progress_bar_moves_to_100_and_offers_the_download(
    orm_beside_playwright: None, live_hub: Any, celery_worker: Any, make_user: Any, page: Page
) -> None:
    """Starting an export from "my jobs" shows a bar that only moves forward to 100% and a working download link."""
    make_user("alice")
    page.add_init_script(RECORD_PROGRESS)
    log_in(page, live_hub.http_url, "alice")
    page.goto(f"{live_hub.http_url}/jobs/")
    page.fill("#id_rows", "3000")
    page.fill("#id_pace", "1500")
    page.click("button:has-text('Start export')")

    job = page.locator(".jobs .job")
    expect(job.locator(".job-title")).to_have_text("CSV export of 3,000 rows")
    expect(job).to_have_attribute("data-status", "succeeded", timeout=30_000)
    expect(job.locator(".job-bar")).to_have_attribute("aria-valuenow", "100")
    expect(job.locator(".job-percent")).to_have_text("100%")
    expect(job.locator(".job-result")).to_have_text(re.compile(r"^3,000 rows, \d+ KB$"))
    expect(job.locator(".job-cancel")).to_be_hidden()
    seen = page.evaluate("window.progressSeen")
    assert seen == sorted(seen) and seen[-1] == 100, seen
    assert any(0 < value < 100 for value in seen), seen

    link = job.locator(".job-download")
    expect(link).to_be_visible()
    with page.expect_download() as download:
        link.click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "order,placed,customer,country,amount" and len(lines) == 3001

    # "My jobs", opened afterwards, shows the finished job at once.
    page.goto(f"{live_hub.http_url}/jobs/")
    listed = page.locator("#jobs .job")
    expect(listed).to_have_count(1)
    expect(listed).to_have_attribute("data-status", "succeeded")
    expect(listed.locator(".job-download")).to_be_visible()


def test_my_jobs_follows_a_job_started_in_another_tab(
    orm_beside_playwright: None, live_hub: Any, celery_worker: Any, make_user: Any, page: Page
) -> None:
    """A prime report started from a second tab appears on "my jobs" and runs to its summary there, stage by stage."""
    make_user("alice")
    log_in(page, live_hub.http_url, "alice")
    page.goto(f"{live_hub.http_url}/jobs/")
    expect(page.locator("#jobs")).to_have_attribute("data-live", "listening")
    expect(page.locator("#no-jobs")).to_be_visible()

    other = page.context.new_page()
    other.goto(f"{live_hub.http_url}/jobs/")
    other.fill("#id_limit", "100000")
    other.fill("#id_stage_seconds", "0.5")
    other.click("button:has-text('Start computation')")

    job = page.locator("#jobs .job")
    expect(job.locator(".job-message")).to_contain_text("Stage 2 of 3", timeout=30_000)
    expect(job).to_have_attribute("data-status", "succeeded", timeout=30_000)
    expect(job.locator(".job-result")).to_have_text(
        "9,592 primes below 100,000; 1,224 twin pairs; largest gap 72 after 31,397"
    )
    expect(page.locator("#no-jobs")).to_be_hidden()
