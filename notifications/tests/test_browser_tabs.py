"""Tabs of one browser share one hub connection (hub.js's SharedWorker), in Chromium against a live Daphne."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from conftest import wait_for
from notifications import metrics, publish
from notifications.tests.browser import chat_line, sign_in

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not importable").expect

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

# Every event frame this page's hub passes on, as [topic, event], and every "test.tabs" event's data.
COLLECT = """() => {
    window.topics = [];
    window.seen = [];
    window.hub.onFrame("event", (frame) => window.topics.push([frame.topic, frame.event]));
    window.hub.on("test.tabs", (data) => window.seen.push(data.n));
}"""


@pytest.fixture
def signed_in_context(chromium: Browser, live_hub: Any) -> Iterator[Any]:
    """Return a function making a browser context signed in as a user (a session cookie, as after a login)."""
    contexts: list[BrowserContext] = []

    def make(user: Any) -> BrowserContext:
        context = chromium.new_context()
        contexts.append(context)
        sign_in(context, user, live_hub.http_url)
        return context

    yield make
    for context in contexts:
        context.close()


def open_tab(context: BrowserContext, url: str) -> Page:
    """Open ``url`` in a new tab of ``context``; return once its hub is open and collecting events."""
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("() => window.hub && window.hub.state === 'open'")
    if page.locator("#messages").count():
        expect(page.locator("#messages")).to_have_attribute("data-state", "subscribed")
    page.evaluate(COLLECT)
    return page


def say(page: Page, text: str) -> None:
    """Type ``text`` in the chat box and send it."""
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")


def settled_connections(expected: int | None = None, hold: float = 3.0, timeout: float = 20.0) -> int:
    """Return the hub's connection count once it has held still for ``hold`` seconds (and equals ``expected``)."""
    readings: list[tuple[float, int]] = []

    def settled() -> bool:
        readings.append((time.monotonic(), metrics.snapshot()["connections"]))
        now, count = readings[-1]
        held = [n for at, n in readings if at >= now - hold]
        return now - readings[0][0] >= hold and set(held) == {count} and expected in (None, count)

    wait_for(settled, timeout)  # metrics are summed from Redis once a second
    return readings[-1][1]


def topics_seen(page: Page) -> set[str]:
    """Return the streams and topics of every event this page's hub passed on."""
    return {topic for topic, _event in page.evaluate("window.topics")}


def test_three_tabs_share_one_connection(
    orm_beside_playwright: None, make_user: Any, signed_in_context: Any, live_hub: Any
) -> None:
    """Three tabs, one connection; each tab gets its own topics and all get the user's events; closing the first keeps the rest; a logout ends all."""
    alice = make_user("alice")
    lobby_room, other_room = f"lobby-{secrets.token_hex(4)}", f"other-{secrets.token_hex(4)}"
    baseline = settled_connections()
    context = signed_in_context(alice)
    lobby = open_tab(context, f"{live_hub.http_url}/chat/{lobby_room}/")
    other = open_tab(context, f"{live_hub.http_url}/chat/{other_room}/")
    home = open_tab(context, f"{live_hub.http_url}/")

    settled_connections(expected=baseline + 1)
    assert metrics.snapshot()["topics"].get(f"chat.{lobby_room}") == 1

    say(lobby, "in the lobby")
    expect(lobby.locator("#messages li").last).to_have_text(chat_line("alice", "in the lobby"))
    say(other, "in the other room")
    expect(other.locator("#messages li").last).to_have_text(chat_line("alice", "in the other room"))
    expect(lobby.locator("#messages li")).to_have_count(1)
    expect(other.locator("#messages li")).to_have_count(1)

    publish.to_user(alice, "test.tabs", {"n": 1})
    for page in (lobby, other, home):
        page.wait_for_function("() => window.seen.length === 1")
    assert topics_seen(lobby) == {f"chat.{lobby_room}", f"user.{alice.pk}"}
    assert topics_seen(other) == {f"chat.{other_room}", f"user.{alice.pk}"}
    assert topics_seen(home) == {f"user.{alice.pk}"}

    lobby.close(run_before_unload=True)  # the tab that started the shared worker
    wait_for(lambda: f"chat.{lobby_room}" not in metrics.snapshot()["topics"])  # no tab wants it now
    publish.to_user(alice, "test.tabs", {"n": 2})
    for page in (other, home):
        page.wait_for_function("() => window.seen.length === 2")
        assert page.evaluate("window.seen") == [1, 2]
        assert page.evaluate("window.hub.state") == "open"
    say(other, "still here")
    expect(other.locator("#messages li").last).to_have_text(chat_line("alice", "still here"))
    settled_connections(expected=baseline + 1)

    # Logging out in another tab: a plain POST with the session's cookies.
    csrf = next(cookie["value"] for cookie in context.cookies() if cookie["name"] == "csrftoken")
    response = context.request.post(f"{live_hub.http_url}/accounts/logout/", headers={"X-CSRFToken": csrf})
    assert response.ok, response.status
    expect(other.locator("#messages")).to_have_attribute("data-state", "closed")
    expect(other.locator("#chat-status")).to_contain_text("4000")
    home.wait_for_function("() => window.hub.state === 'closed'")
    settled_connections(expected=baseline)

    # A page opened after the logout gets a connection of its own, as a visitor.
    later = open_tab(context, f"{live_hub.http_url}/chat/{lobby_room}/")
    assert later.evaluate("window.hub.hello.user") is None
    say(later, "a visitor now")
    expect(later.locator("#messages li").last).to_have_text(chat_line("visitor", "a visitor now"))
