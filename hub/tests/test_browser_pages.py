"""Every demo page in Chromium, as a visitor, alice, bob and admin: no console error, no failed
request, no serious or critical axe-core violation; and the pages' live parts without a reload.

axe-core comes from the npm registry (package.json's devDependencies; ``make test`` runs
``npm ci`` when npm is there): without it the accessibility part is left out, with a warning,
and the rest still runs. Plain
sync tests: Playwright's sync API cannot run inside pytest-asyncio's loop.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from conftest import ROOT
from hub import sales
from notifications import publish
from notifications.announcements import services as announcements
from notifications.dashboards.tests.helpers import grant
from notifications.inbox import services as inbox
from notifications.jobs.models import Job
from notifications.jobs.state import job_state
from notifications.tests.browser import log_in

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not importable").expect

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Error, Page, Request, Response

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
_RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.impact} ${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`);
}"""
# Requests that the browser itself cancels are no failure: those of a page left for the next
# (a state read still out), and the second fetch of the hub's SharedWorker script by a tab that
# joins the worker the previous page started.
_CANCELLED = "net::ERR_ABORTED"


@dataclass
class Watched:
    """A page, and the console errors and failed requests seen since the last ``clear``."""

    page: Page
    problems: list[str] = field(default_factory=list)
    refused: str | None = None  # the URL of a page expected to answer 403

    def clear(self, refused: str | None = None) -> None:
        """Forget what was seen; ``refused`` names a page whose 403 is the expected answer."""
        self.problems.clear()
        self.refused = refused

    def console(self, message: ConsoleMessage) -> None:
        """Record a console error (the expected refusal's own "Failed to load resource" aside)."""
        if message.type != "error":
            return
        if self.refused and message.location.get("url") == self.refused and "status of 403" in message.text:
            return
        self.problems.append(f"console: {message.text}")

    def error(self, error: Error) -> None:
        """Record an uncaught exception or unhandled rejection in a page script (not a console message)."""
        self.problems.append(f"page error: {error}")

    def failed(self, request: Request) -> None:
        """Record a request that failed on the network."""
        if request.failure == _CANCELLED:
            return
        self.problems.append(f"failed: {request.url} {request.failure}")

    def response(self, response: Response) -> None:
        """Record an HTTP error answer (the expected refusal aside)."""
        if response.status >= 400 and not (response.status == 403 and response.url == self.refused):
            self.problems.append(f"HTTP {response.status}: {response.url}")


def _watch(page: Page) -> Watched:
    watched = Watched(page)
    page.on("console", watched.console)
    page.on("pageerror", watched.error)
    page.on("requestfailed", watched.failed)
    page.on("response", watched.response)
    return watched


@pytest.fixture(scope="module")
def axe_source() -> str | None:
    """Return axe-core's script, or None (with a warning) when it is not installed: the other checks still run."""
    if not AXE.exists():
        warnings.warn(
            f"axe-core is not installed at {AXE.relative_to(ROOT)}: accessibility not checked; run `npm ci`",
            stacklevel=2,
        )
        return None
    return AXE.read_text()


@pytest.fixture
def demo_users(make_user: Any) -> dict[str, Any]:
    """Create the demo's users as seed_demo does (password ``pw-<name>``), an announcement, notifications, a job."""
    alice = grant(make_user("alice"))
    bob = make_user("bob")
    bob.groups.add(Group.objects.get_or_create(name="editors")[0])
    admin = make_user("admin", is_staff=True, is_superuser=True)
    announcements.create_announcement(title="Maintenance at 22:00", body="Back by **22:30**", markdown=True)
    inbox.notify(alice, "Export ready", body="orders.csv is ready", url="/jobs/")
    inbox.mark_read(alice, [inbox.notify(alice, "Welcome", body="Read already").pk])
    job = Job.objects.create(
        owner=alice, kind="export_csv", title="CSV export of 1,000 rows", status=Job.Status.RUNNING, percent=40,
        done=400, total=1000, message="Writing rows",
    )  # fmt: skip
    return {"alice": alice, "bob": bob, "admin": admin, "job": job}


def _pages(user: str, job: Job) -> list[tuple[str, int]]:
    """Return the pages ``user`` visits, each with the status it should get."""
    common = [("/", 200), ("/chat/lobby/", 200), ("/dashboards/", 200)]
    if user == "visitor":
        return [*common, ("/accounts/login/", 200), ("/jobs/", 200), ("/inbox/", 200), ("/dashboards/sales/", 200)]
    mine = [("/jobs/", 200), ("/inbox/", 200)]
    if user == "alice":
        return [*common, *mine, (f"/jobs/{job.pk}/", 200), ("/dashboards/sales/", 200), ("/dashboards/hub/", 403)]
    if user == "bob":
        return [*common, *mine, ("/dashboards/sales/", 403)]
    admin = ["/admin/", "/admin/inbox/notification/add/", "/admin/announcements/announcement/add/"]
    return [*common, *mine, ("/dashboards/sales/", 200), ("/dashboards/hub/", 200), *((path, 200) for path in admin)]


@pytest.mark.parametrize(
    ("user", "theme"),
    [
        ("visitor", "light"),
        ("alice", "light"),
        ("alice", "dark"),
        ("bob", "dark"),
        ("admin", "light"),
        ("admin", "dark"),
    ],
)
def test_every_page_is_clean_and_accessible(
    orm_beside_playwright: None,
    demo_users: dict,
    chromium: Any,
    live_hub: Any,
    axe_source: str | None,
    user: str,
    theme: str,
) -> None:
    """Each page: the expected status, no console error, no failed request, no serious or critical axe violation."""
    context = chromium.new_context(color_scheme=theme)
    try:
        page = context.new_page()
        watched = _watch(page)
        if user != "visitor":
            log_in(page, live_hub.http_url, user)
            expect(page.locator("#hub-state")).to_have_attribute("data-state", "live")  # loaded, before leaving
        found = {}
        for path, status in _pages(user, demo_users["job"]):
            url = live_hub.http_url + path
            watched.clear(refused=url if status == 403 else None)
            response = page.goto(url)
            assert response is not None and response.status == status, (path, response and response.status)
            if not path.startswith("/admin/"):
                expect(page.locator("#hub-state")).to_have_attribute("data-state", "live")
            problems = list(watched.problems)
            if axe_source is not None:
                page.evaluate(axe_source)
                problems += page.evaluate(_RUN_AXE)
            if problems:
                found[path] = problems
        assert not found, found
    finally:
        context.close()


def test_home_page_values_follow_the_data(
    orm_beside_playwright: None, demo_users: dict, page: Page, live_hub: Any, celery_worker: Any, new_context: Any
) -> None:
    """Chat, jobs, announcements, sales and unread on the home page change with the data, without a reload."""
    alice = demo_users["alice"]
    log_in(page, live_hub.http_url, "alice")
    page.goto(live_hub.http_url + "/")
    expect(page.locator("#hub-state")).to_have_attribute("data-state", "live")
    expect(page.locator("#home-chat-online")).to_have_attribute("data-value", "1")
    expect(page.locator("#home-sales-revenue")).not_to_have_attribute("data-value", "")
    page.evaluate("window.notReloaded = true")

    publish.to_topic("chat.lobby", "message", {"text": "hello from the test"})
    expect(page.locator("#home-chat-last")).to_have_text("visitor: hello from the test")
    new_context().new_page().goto(live_hub.http_url + "/chat/lobby/")  # a second reader in the lobby
    expect(page.locator("#home-chat-online")).to_have_attribute("data-value", "2")

    job = Job.objects.create(owner=alice, kind="export_csv", title="Another export")
    publish.to_user(alice, "job.queued", job_state(job))  # as jobs.services pushes it
    expect(page.locator("#home-jobs-running")).to_have_text("2")  # the fixture's running job, and this one
    job.status = Job.Status.SUCCEEDED
    job.save()
    publish.to_user(alice, "job.succeeded", job_state(job))
    expect(page.locator("#home-jobs-running")).to_have_text("1")

    announcements.create_announcement(title="Deploy in 5 minutes", level="critical")
    expect(page.locator("#home-announcement")).to_have_text("Deploy in 5 minutes")  # critical ranks first
    expect(page.locator("#home-announcements-count")).to_have_text("2")

    before = page.locator("#home-sales-revenue").get_attribute("data-value")
    sales.create_demo_order()
    expect(page.locator("#home-sales-revenue")).not_to_have_attribute("data-value", before or "")

    expect(page.locator("#home-unread")).to_have_text("1")
    page.click("#home-send-test button")
    expect(page.locator("#home-unread")).to_have_text("2")
    expect(page.locator("#inbox-unread")).to_have_text("2")
    assert page.evaluate("window.notReloaded") is True


def test_notification_added_in_the_admin_reaches_the_open_inbox(
    orm_beside_playwright: None, demo_users: dict, new_context: Any, live_hub: Any
) -> None:
    """Admin saves a notification for alice: her open inbox shows it, unread, linked, timed, and the bell counts it."""
    alice_page = new_context().new_page()
    log_in(alice_page, live_hub.http_url, "alice")
    alice_page.goto(live_hub.http_url + "/inbox/")
    expect(alice_page.locator("#hub-state")).to_have_attribute("data-state", "live")
    expect(alice_page.locator("#inbox-unread")).to_have_text("1")
    expect(alice_page.locator("#inbox-list li.read")).to_have_count(1)
    alice_page.evaluate("window.notReloaded = true")

    # The admin's own add view and form, run in this process: the live server's content-type
    # cache would still name the rows that the tests' database flushes dropped.
    admin = Client()
    admin.force_login(demo_users["admin"])
    fields = {"user": demo_users["alice"].pk, "title": "Invoice 42 paid", "body": "Paid by card", "url": "/jobs/",
              "level": "info", "data": "{}", "_save": "Save"}  # fmt: skip
    response = admin.post("/admin/inbox/notification/add/", fields)
    assert response.status_code == 302, response.content.decode()[:2000]

    expect(alice_page.locator("#inbox-unread")).to_have_text("2")
    newest = alice_page.locator("#inbox-list li").first
    expect(newest).to_have_class(re.compile(r"\bunread\b"))
    expect(newest.locator(".title a")).to_have_text("Invoice 42 paid")
    expect(newest.locator(".title a")).to_have_attribute("href", "/jobs/")
    expect(newest.locator("time")).to_have_text("just now")
    expect(newest.locator(".new-badge")).to_be_visible()
    expect(alice_page.locator("#inbox-list li.read .new-badge")).to_be_hidden()
    assert alice_page.evaluate("window.notReloaded") is True


def test_a_signed_out_tab_says_so_and_offers_to_sign_in(
    orm_beside_playwright: None, demo_users: dict, new_context: Any, live_hub: Any
) -> None:
    """Logging out in one tab: the other tab shows the notice with a sign-in link back to itself."""
    context = new_context()
    first, second = context.new_page(), context.new_page()
    log_in(first, live_hub.http_url, "alice")
    second.goto(live_hub.http_url + "/chat/lobby/")
    expect(second.locator("#hub-state")).to_have_attribute("data-state", "live")
    expect(second.locator("#signed-out")).to_be_hidden()

    first.click("#whoami")
    first.click("button:has-text('Log out')")

    expect(second.locator("#signed-out")).to_be_visible()
    expect(second.locator("#signed-out")).to_contain_text("signed out in another tab")
    expect(second.locator("#signed-out a")).to_have_attribute("href", "/accounts/login/?next=/chat/lobby/")
    expect(second.locator("#hub-state")).to_have_attribute("data-state", "offline")


def test_chat_shows_recent_history_with_times_and_own_messages_apart(
    orm_beside_playwright: None, demo_users: dict, page: Page, live_hub: Any
) -> None:
    """Messages sent before the page opened show on load, oldest first, with a time; alice's own are marked."""
    room = "history-test"
    for text in ("first", "second"):
        publish.to_topic(f"chat.{room}", "message", {"text": text})
    log_in(page, live_hub.http_url, "alice")
    page.goto(f"{live_hub.http_url}/chat/{room}/")
    expect(page.locator("#messages")).to_have_attribute("data-history", "loaded")
    expect(page.locator("#messages .text")).to_have_text(["first", "second"])
    expect(page.locator("#messages li").first.locator("time")).to_have_text(re.compile(r"\d{1,2}:\d{2}"))

    page.fill("#chat-input", "mine")
    page.press("#chat-input", "Enter")
    expect(page.locator("#messages li.mine .text")).to_have_text(["mine"])
    expect(page.locator("#messages li:not(.mine)")).to_have_count(2)

    other = page.context.browser.new_context().new_page()  # type: ignore[union-attr]
    try:
        other.goto(f"{live_hub.http_url}/chat/{room}/")
        expect(other.locator("#messages .text")).to_have_text(["first", "second", "mine"])
        expect(other.locator("#messages li.mine")).to_have_count(0)  # a visitor's view: nothing of theirs
    finally:
        other.context.close()


def test_empty_room_and_dashboard_say_how_to_get_data(
    orm_beside_playwright: None, demo_users: dict, page: Page, live_hub: Any, celery_worker: Any
) -> None:
    """An empty room invites a first message; the empty sales table says how to get orders."""
    from notifications.dashboards import state

    state.reset(name="sales")
    log_in(page, live_hub.http_url, "alice")
    page.goto(f"{live_hub.http_url}/chat/empty-room/")
    expect(page.locator("#chat-empty")).to_be_visible()
    page.goto(f"{live_hub.http_url}/dashboards/sales/")
    expect(page.locator("#dashboard")).to_have_attribute("data-state", "subscribed")
    expect(page.locator("#dashboard-empty")).to_contain_text("demo_sales")
