"""Headless Debian chromium for browser tests, driven by Playwright's sync API.

``playwright install`` is not used: the tests drive the distribution's chromium, and
skip (with the reason) when it or Playwright is missing. The root conftest loads this
module as a plugin, so every test can ask for ``chromium``, ``page`` and
``orm_beside_playwright``.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, WebSocketRoute

__all__ = [
    "CHROMIUM",
    "chat_line",
    "SocketRelay",
    "chromium",
    "launch_chromium",
    "log_in",
    "sign_in",
    "lose_history",
    "new_context",
    "orm_beside_playwright",
    "page",
]

CHROMIUM = "/usr/bin/chromium"
_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


@contextlib.contextmanager
def launch_chromium() -> Iterator[Browser]:
    """Yield a headless chromium; skip the calling test if Playwright or the binary is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        pytest.skip(f"playwright is not importable: {error}")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Debian chromium not installed at {CHROMIUM}")
    # Playwright's sync API refuses to start inside a running asyncio loop: use it
    # from plain (not async) tests and fixtures only.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Return a headless chromium shared by one test module (its own contexts isolate pages)."""
    with launch_chromium() as browser:
        yield browser


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """Return a page in a fresh browser context (its own cookies and storage)."""
    context = chromium.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture
def new_context(chromium: Browser) -> Iterator[Any]:
    """Return a factory of browser contexts (each its own cookies and storage), closed afterwards."""
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = chromium.new_context()
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def orm_beside_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a sync browser test use the ORM: Playwright's sync API marks the thread as running a loop.

    Function-scoped, so the session's Daphne and Celery subprocesses never inherit it.
    """
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def chat_line(sender: str, text: str) -> re.Pattern[str]:
    """Match a chat message as the page shows it: its sender, its time, then what was said."""
    return re.compile(rf"^{re.escape(sender)} · [^·]+ {re.escape(text)}$")


def sign_in(context: BrowserContext, user: Any, url: str) -> None:
    """Give ``context`` a session of ``user`` on ``url``'s site, as a login would, without the form."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    context.add_cookies([{"name": name, "value": client.cookies[name].value, "url": url}])


def log_in(page: Page, base_url: str, username: str) -> None:
    """Log ``username`` in through the login form (test users' password is ``pw-<username>``)."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click("button[type=submit]:has-text('Log in')")
    expect(page.locator("#whoami")).to_have_text(username)


class SocketRelay:
    """Carries a page's hub socket through Playwright, so that a test can drop it and act before it is back."""

    def __init__(self, page: Page) -> None:
        self.routes: list[WebSocketRoute] = []
        self._while_away: Callable[[], None] | None = None
        self._failed: BaseException | None = None
        page.route_web_socket(re.compile(r"/ws/(\?.*)?$"), self._relay)

    def _relay(self, route: WebSocketRoute) -> None:
        while_away, self._while_away = self._while_away, None
        try:
            if while_away is not None:
                while_away()
        except BaseException as error:  # raised again by drop(), in the test's own frame
            self._failed = error
        self.routes.append(route)
        route.connect_to_server()

    def drop(self, page: Page, while_away: Callable[[], None]) -> None:
        """Close the page's socket as a restarting server would; run ``while_away`` before the page reconnects."""
        self._while_away = while_away
        with page.expect_websocket():
            self.routes[-1].close(code=1012, reason="service restart")
        if self._failed is not None:
            raise self._failed
        assert self._while_away is None, "the page did not reconnect"


def lose_history(*groups: str) -> None:
    """Delete these groups' streams and what the hub remembers of them, as a Redis restarted empty does."""
    from notifications import redis_client

    keys = [f"{redis_client.prefix()}:history:{group}" for group in groups]
    redis_client.client().delete(*keys, *(f"{key}:meta" for key in keys))
