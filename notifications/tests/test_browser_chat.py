"""The chat page and hub.js in headless chromium, against a live Daphne.

Plain sync tests: Playwright's sync API cannot run inside pytest-asyncio's loop.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import TYPE_CHECKING, Any

import pytest

from notifications.tests.browser import chat_line

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not importable").expect

if TYPE_CHECKING:
    from playwright.sync_api import Page, WebSocketRoute


@pytest.fixture
def room_url(live_hub: Any) -> str:
    """Return the URL of a chat room that no other test uses."""
    return f"{live_hub.http_url}/chat/lobby-{secrets.token_hex(4)}/"


@pytest.fixture
def new_page(new_context: Any) -> Any:
    """Return a factory of pages, each in its own browser context (its own cookies)."""
    return lambda: new_context().new_page()


def open_room(page: Page, url: str) -> Page:
    """Load the chat room and wait until its socket is subscribed to the room's topic."""
    page.goto(url)
    expect(page.locator("#messages")).to_have_attribute("data-state", "subscribed")
    return page


def say(page: Page, text: str) -> None:
    """Type ``text`` in the chat box and send it."""
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")


def last_message(page: Page) -> Any:
    """Return a locator of the newest line in the page's message list."""
    return page.locator("#messages li").last


def test_two_pages_see_each_others_messages(new_page: Any, room_url: str) -> None:
    """A message sent from one page shows on both pages, in both directions, and the box clears."""
    first, second = open_room(new_page(), room_url), open_room(new_page(), room_url)

    say(first, "hello from the first page")
    for page in (first, second):
        expect(last_message(page)).to_have_text(chat_line("visitor", "hello from the first page"))
    expect(first.locator("#chat-input")).to_have_value("")

    say(second, "and back from the second")
    expect(last_message(first)).to_have_text(chat_line("visitor", "and back from the second"))
    expect(first.locator("#messages li")).to_have_count(2)
    expect(first.locator("#chat-status")).to_have_text("Live")


def test_markup_in_a_message_is_shown_as_text(new_page: Any, room_url: str) -> None:
    """HTML in a message is shown literally: no element is created and no script runs."""
    first, second = open_room(new_page(), room_url), open_room(new_page(), room_url)
    dialogs: list[str] = []
    for page in (first, second):
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    attack = "<img src=x onerror=alert(1)>"

    say(first, attack)
    for page in (first, second):
        expect(last_message(page).locator(".text")).to_have_text(attack)
        expect(page.locator("#messages img")).to_have_count(0)
    assert dialogs == []


def test_logged_in_sender_is_shown_by_username(
    orm_beside_playwright: None, make_user: Any, new_page: Any, live_hub: Any, room_url: str
) -> None:
    """A logged-in user's messages carry their username; a visitor's say "visitor"."""
    make_user("alice")
    alice = new_page()
    alice.goto(f"{live_hub.http_url}/accounts/login/")
    alice.fill("#id_username", "alice")
    alice.fill("#id_password", "pw-alice")
    alice.click("button[type=submit]:has-text('Log in')")
    expect(alice.locator("#whoami")).to_have_text("alice")
    open_room(alice, room_url)
    visitor = open_room(new_page(), room_url)

    say(alice, "hi, I am alice")
    expect(last_message(visitor)).to_have_text(chat_line("alice", "hi, I am alice"))
    say(visitor, "hi alice")
    expect(last_message(alice)).to_have_text(chat_line("visitor", "hi alice"))


def test_rate_limited_publish_is_reported_on_the_page(new_page: Any, room_url: str) -> None:
    """Sending faster than the hub allows shows the rate_limited error and keeps the page usable."""
    page = open_room(new_page(), room_url)

    # 45 sends in one go: over HUB_RATE_BURST (40), under the flood close.
    page.evaluate(
        """() => {
            const input = document.getElementById("chat-input");
            for (let i = 0; i < 45; i++) {
                input.value = "burst " + i;
                document.getElementById("chat-form").requestSubmit();
            }
        }"""
    )
    expect(page.locator("#chat-status")).to_contain_text("rate_limited")
    expect(page.locator("#messages")).to_have_attribute("data-state", "subscribed")


def test_reconnects_and_resubscribes_since_the_last_event(new_page: Any, room_url: str) -> None:
    """After a 4008 close the page reconnects, resubscribes with since, and chats on; 4000 is final."""
    connections: list[dict[str, Any]] = []

    def relay(route: WebSocketRoute) -> None:
        server = route.connect_to_server()
        connection: dict[str, Any] = {"route": route, "sent": [], "received": []}
        connections.append(connection)

        def to_server(message: str | bytes) -> None:
            connection["sent"].append(json.loads(message))
            server.send(message)

        def to_page(message: str | bytes) -> None:
            connection["received"].append(json.loads(message))
            route.send(message)

        route.on_message(to_server)
        server.on_message(to_page)

    first = new_page()
    first.route_web_socket(re.compile(r"/ws/(\?.*)?$"), relay)
    open_room(first, room_url)
    second = open_room(new_page(), room_url)
    say(first, "before the drop")
    for page in (first, second):  # the first page must have seen it, or it has no id to resume from
        expect(last_message(page)).to_have_text(chat_line("visitor", "before the drop"))

    with first.expect_websocket():
        connections[0]["route"].close(code=4008, reason="too slow")
    say(first, "after the drop")
    for page in (first, second):
        expect(last_message(page)).to_have_text(chat_line("visitor", "after the drop"))

    (event_id,) = [f["id"] for f in connections[0]["received"] if f["type"] == "event"]
    resubscribe = connections[1]["sent"][0]
    assert resubscribe["type"] == "subscribe" and resubscribe["since"] == event_id

    connections[1]["route"].close(code=4000, reason="logged out")
    expect(first.locator("#messages")).to_have_attribute("data-state", "closed")
    expect(first.locator("#chat-status")).to_contain_text("4000")
    assert len(connections) == 2


def test_a_client_cannot_fake_server_events_by_name(new_page: Any, room_url: str) -> None:
    """A visitor publishing "announcement.show" with markup into a room shows no banner anywhere."""
    victim = open_room(new_page(), room_url)
    attacker = open_room(new_page(), room_url)
    topic = "chat." + room_url.rstrip("/").rsplit("/", 1)[1]
    fake = {"id": 999, "title": "Fake", "body_html": "<img src=x class=injected>", "level": "critical", "version": 1}
    attacker.evaluate("([topic, data]) => window.hub.publish(topic, 'announcement.show', data)", [topic, fake])
    say(attacker, "after the fake")
    expect(last_message(victim)).to_have_text(chat_line("visitor", "after the fake"))
    expect(victim.locator("img.injected")).to_have_count(0)
    expect(victim.get_by_text("Fake", exact=True)).to_have_count(0)
