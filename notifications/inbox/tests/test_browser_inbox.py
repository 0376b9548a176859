"""The inbox in Chromium: read in one tab, every tab's bell follows; a reset re-syncs the page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from notifications import groups
from notifications.inbox import services
from notifications.tests.browser import SocketRelay, lose_history, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture
def signed_in(chromium: Browser, live_hub: Any) -> Iterator[Any]:
    """Return a function opening pages of a browser context logged in as a user."""
    contexts = []

    def open_as(user: Any, path: str, prepare: Callable[[Page], Any] = lambda page: None) -> Page:
        context = chromium.new_context()
        contexts.append(context)
        sign_in(context, user, live_hub.http_url)
        page = context.new_page()
        prepare(page)
        page.goto(f"{live_hub.http_url}{path}")
        page.wait_for_function("() => window.hub && window.hub.state === 'open'")
        return page

    yield open_as
    for context in contexts:
        context.close()


def test_reading_one_in_one_tab_updates_both_tabs(orm_beside_playwright: None, make_user: Any, signed_in: Any) -> None:
    """Three notifications, one read in the inbox tab: both tabs' bells show two unread."""
    from playwright.sync_api import expect

    alice = make_user("alice")
    for title in ("first", "second", "third"):
        services.notify(alice, title, body=f"the {title} one")
    inbox, other = signed_in(alice, "/inbox/"), signed_in(alice, "/")
    for page in (inbox, other):
        expect(page.locator("#inbox-unread")).to_have_text("3")

    inbox.locator("li[data-id] .mark-read").first.click()

    for page in (inbox, other):
        expect(page.locator("#inbox-unread")).to_have_text("2")
    expect(inbox.locator("#inbox-list li.read")).to_have_count(1)
    expect(inbox.locator("#inbox-page-unread")).to_have_text("2")

    services.notify(alice, "fourth")
    for page in (inbox, other):
        expect(page.locator("#inbox-unread")).to_have_text("3")
    expect(inbox.locator("#inbox-list li.unread .title").first).to_have_text("fourth")


def test_after_history_is_lost_the_open_inbox_resyncs_without_a_reload(
    orm_beside_playwright: None, make_user: Any, signed_in: Any
) -> None:
    """Two unread shown; a third arrives while the socket is down and the history is lost: bell and list show it."""
    from playwright.sync_api import expect

    alice = make_user("alice")
    for title in ("first", "second"):
        services.notify(alice, title)
    relays: list[SocketRelay] = []
    page = signed_in(alice, "/inbox/", prepare=lambda page: relays.append(SocketRelay(page)))
    expect(page.locator("#inbox-unread")).to_have_text("2")
    page.evaluate("window.notReloaded = true")
    state_reads: list[str] = []
    page.on("request", lambda request: "/inbox/state/" in request.url and state_reads.append(request.url))

    def while_away() -> None:
        services.notify(alice, "third")  # pushed after commit, to a socket that is gone
        lose_history(groups.user_group(alice.pk))  # then the event is lost: only a re-sync can show it

    relays[0].drop(page, while_away)

    expect(page.locator("#inbox-unread")).to_have_text("3")
    expect(page.locator("#inbox-page-unread")).to_have_text("3")
    expect(page.locator("#inbox-list li[data-id]")).to_have_count(3)
    expect(page.locator("#inbox-list li.unread .title").first).to_have_text("third")
    assert page.evaluate("window.notReloaded") is True
    assert len(state_reads) == 1, state_reads


def test_a_first_connection_after_a_failed_attempt_rereads_the_count(
    orm_beside_playwright: None, make_user: Any, signed_in: Any
) -> None:
    """The page's first socket fails and a notification is stored meanwhile: the first hello re-reads the bell."""
    from playwright.sync_api import expect

    alice = make_user("alice")
    for title in ("first", "second"):
        services.notify(alice, title)
    attempts: list[Any] = []

    def refuse_the_first(route: Any) -> None:
        attempts.append(route)
        if len(attempts) == 1:
            services.notify(alice, "third")  # pushed to no socket of this page: its first hello comes after
            route.close(code=1012, reason="service restart")
        else:
            route.connect_to_server()

    def prepare(page: Page) -> None:
        page.route_web_socket(re.compile(r"/ws/(\?.*)?$"), refuse_the_first)

    page = signed_in(alice, "/", prepare=prepare)
    expect(page.locator("#inbox-unread")).to_have_text("3")
    assert len(attempts) >= 2
