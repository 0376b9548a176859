"""hub.js over Server-Sent Events, in Chromium, when a proxy refuses websocket upgrades.

The page talks to a Daphne of its own through ``upgrade_proxy``, which answers every
websocket upgrade with HTTP 502: the client must fall back to ``/hub/sse/`` by itself,
and survive a restart of that Daphne without losing or repeating an event.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conftest import daphne_command, port_open, start_process, stop_process, subprocess_env, wait_for
from notifications import metrics, publish
from notifications.embedded_redis import free_port
from notifications.tests.browser import chat_line, sign_in
from notifications.tests.upgrade_proxy import refusing_upgrades

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not importable").expect

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# Every "test.sse" event the page's hub passes to hub.on, in order of arrival.
COLLECT = "() => { window.seen = []; window.hub.on('test.sse', (data) => window.seen.push(data.n)); }"


class OwnDaphne:
    """A Daphne serving the hub on a fixed port, which a test can restart."""

    def __init__(self, log: Path, **env: str) -> None:
        self.port = free_port()
        self.log = log
        self.env = subprocess_env(**env)
        self.process: Any = None

    def start(self) -> None:
        command = daphne_command(self.port)
        self.process = start_process(command, self.log, lambda: port_open(self.port), "Daphne", env=self.env)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


@pytest.fixture
def own_daphne(django_db_setup: Any, tmp_path: Path) -> Iterator[OwnDaphne]:
    """Return a running Daphne of this test's own, on the session's test database and Redis."""
    before = metrics.snapshot()["connections"]
    daphne = OwnDaphne(tmp_path / "daphne.log")
    daphne.start()
    yield daphne
    daphne.stop()
    # A killed server's figures linger in Redis for a few seconds: let them expire, so that
    # tests counting connections after this one count only their own.
    wait_for(lambda: metrics.snapshot()["connections"] <= before, timeout=20)
    assert "Traceback" not in daphne.log.read_text(), daphne.log.read_text()[-5000:]


def say(page: Page, text: str) -> None:
    """Type ``text`` in the chat box and send it."""
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")


def test_chat_works_over_sse_and_resumes_after_a_server_restart(
    orm_beside_playwright: None, make_user: Any, chromium: Browser, own_daphne: OwnDaphne
) -> None:
    """Websockets refused: the chat page sends and receives over SSE, and gets what was published while the server restarted, once."""
    alice = make_user("alice")
    room = f"sse-{secrets.token_hex(4)}"
    with refusing_upgrades(own_daphne.port) as proxy:
        context = chromium.new_context()
        try:
            sign_in(context, alice, proxy.url)
            page = context.new_page()
            page.goto(f"{proxy.url}/chat/{room}/")
            messages = page.locator("#messages")
            expect(messages).to_have_attribute("data-state", "subscribed")
            assert any(" /ws/" in line for line in proxy.refused), proxy.refused
            assert any(line.startswith("GET /hub/sse/?") for line in proxy.passed), proxy.passed
            page.evaluate(COLLECT)

            say(page, "over server-sent events")
            expect(messages.locator("li").last).to_have_text(chat_line("alice", "over server-sent events"))
            assert any(line.startswith("POST /hub/sse/") for line in proxy.passed), proxy.passed
            publish.to_user(alice, "test.sse", {"n": 1})
            page.wait_for_function("() => window.seen.length === 1")

            own_daphne.stop()
            expect(messages).to_have_attribute("data-state", "connecting")
            publish.to_user(alice, "test.sse", {"n": 2})
            publish.to_topic(f"chat.{room}", "message", {"text": "while the server was down"})
            publish.to_user(alice, "test.sse", {"n": 3})
            own_daphne.start()

            expect(messages).to_have_attribute("data-state", "subscribed", timeout=30_000)
            expect(messages.locator("li").last).to_have_text(chat_line("visitor", "while the server was down"))
            publish.to_user(alice, "test.sse", {"n": 4})  # after the replay: anything repeated came before it
            page.wait_for_function("() => window.seen.length >= 4")
            assert page.evaluate("window.seen") == [1, 2, 3, 4]
            expect(messages.locator("li")).to_have_text(
                [chat_line("alice", "over server-sent events"), chat_line("visitor", "while the server was down")]
            )
            assert page.evaluate("window.hub.state") == "open"
            assert not any(" /ws/" in line for line in proxy.passed), "a websocket upgrade got through"
        finally:
            context.close()


def test_a_visitor_the_hub_refuses_is_told_so_over_sse(
    orm_beside_playwright: None, transactional_db: Any, chromium: Browser, tmp_path: Path
) -> None:
    """Visitors refused (HUB_ALLOW_ANONYMOUS off) and websockets refused: the page gets the final 4003, as over a websocket."""
    daphne = OwnDaphne(tmp_path / "daphne.log", HUB_ALLOW_ANONYMOUS="false")
    daphne.start()
    try:
        with refusing_upgrades(daphne.port) as proxy:
            context = chromium.new_context()
            try:
                page = context.new_page()
                page.goto(f"{proxy.url}/chat/sse-{secrets.token_hex(4)}/")
                expect(page.locator("#messages")).to_have_attribute("data-state", "closed")
                expect(page.locator("#chat-status")).to_contain_text("4003")
                assert page.evaluate("window.hub.state") == "closed"
                assert any(line.startswith("GET /hub/sse/?") for line in proxy.passed), proxy.passed
            finally:
                context.close()
    finally:
        daphne.stop()


def test_a_jobs_progress_and_the_bell_move_over_sse(
    orm_beside_playwright: None, make_user: Any, chromium: Browser, own_daphne: OwnDaphne, celery_worker: Any
) -> None:
    """Websockets refused: a job's page shows its progress moving to the end, and the bell counts a notification."""
    from notifications.inbox import services as inbox
    from notifications.jobs import services as jobs
    from tasks.examples import export_csv

    alice = make_user("alice")
    with refusing_upgrades(own_daphne.port) as proxy:
        context = chromium.new_context()
        try:
            sign_in(context, alice, proxy.url)
            job = jobs.start_job(
                owner=alice, task=export_csv, title="export over SSE", params={"rows": 3000, "pace": 1500}
            )
            page = context.new_page()
            page.goto(f"{proxy.url}/jobs/{job.pk}/")
            item = page.locator(".jobs .job")
            expect(item).to_have_attribute("data-status", "running", timeout=30_000)
            bar = item.locator(".job-bar")
            expect(bar).to_have_attribute("aria-valuenow", re.compile(r"^[1-9][0-9]?$"), timeout=30_000)  # moving
            expect(item).to_have_attribute("data-status", "succeeded", timeout=30_000)
            expect(bar).to_have_attribute("aria-valuenow", "100")
            inbox.notify(alice, "over SSE")
            expect(page.locator("#inbox-unread")).to_have_text("1")
            assert not any(" /ws/" in line for line in proxy.passed), "a websocket upgrade got through"
            assert any(line.startswith("GET /hub/sse/?") for line in proxy.passed), proxy.passed
        finally:
            context.close()
