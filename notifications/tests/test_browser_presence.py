"""Who is online, in headless chromium: the chat page's list over hub.js and its shared worker, against a live Daphne.

Plain sync tests: Playwright's sync API cannot run inside pytest-asyncio's loop.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from notifications.tests.browser import log_in

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not importable").expect


def test_the_chat_page_shows_who_is_online(
    orm_beside_playwright: None, make_user: Any, new_context: Any, live_hub: Any
) -> None:
    """Alice and Bob, each in a browser of their own, see both names; a visitor is counted; Bob leaving goes."""
    room = f"{live_hub.http_url}/chat/online-{secrets.token_hex(4)}/"
    pages = {}
    for name in ("alice", "bob"):
        make_user(name)
        page = new_context().new_page()
        log_in(page, live_hub.http_url, name)
        page.goto(room)
        pages[name] = page
    for page in pages.values():
        expect(page.locator("#online-members li")).to_have_text(["alice", "bob"])

    visitor = new_context().new_page()
    visitor.goto(room)
    expect(visitor.locator("#online-members li")).to_have_text(["alice", "bob"])
    expect(pages["alice"].locator("#online-visitors")).to_have_text("and 1 visitor")

    second_tab = pages["bob"].context.new_page()  # the same browser: the shared worker's connection
    second_tab.goto(room)
    expect(second_tab.locator("#online-members li")).to_have_text(["alice", "bob"])
    pages["bob"].close()
    second_tab.close()
    for page in (pages["alice"], visitor):
        expect(page.locator("#online-members li")).to_have_text(["alice"])


def test_presence_over_server_sent_events(
    orm_beside_playwright: None, make_user: Any, new_context: Any, live_hub: Any
) -> None:
    """Alice's page can only use SSE (upgrades refused), Bob's a websocket: each sees both, and Bob leaving."""
    from notifications.tests.upgrade_proxy import refusing_upgrades

    room = f"online-sse-{secrets.token_hex(4)}"
    for name in ("alice", "bob"):
        make_user(name)
    with refusing_upgrades(live_hub.port) as proxy:
        alice = new_context().new_page()
        log_in(alice, proxy.url, "alice")
        alice.goto(f"{proxy.url}/chat/{room}/")
        bob = new_context().new_page()
        log_in(bob, live_hub.http_url, "bob")
        bob.goto(f"{live_hub.http_url}/chat/{room}/")
        for page in (alice, bob):
            expect(page.locator("#online-members li")).to_have_text(["alice", "bob"])
        assert any(" /ws/" in line for line in proxy.refused), proxy.refused
        assert any(line.startswith("GET /hub/sse/?") for line in proxy.passed), proxy.passed
        bob.close()
        expect(alice.locator("#online-members li")).to_have_text(["alice"])
