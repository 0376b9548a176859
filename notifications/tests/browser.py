"""Headless Debian chromium for browser tests, driven by Playwright's sync API.

``playwright install`` is not used: the tests drive the distribution's chromium, and
skip (with the reason) when it or Playwright is missing. The root conftest loads this
module as a plugin, so every test can ask for ``chromium``, ``page`` and
``orm_beside_playwright``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

__all__ = ["CHROMIUM", "chromium", "launch_chromium", "log_in", "new_context", "orm_beside_playwright", "page"]

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


def log_in(page: Page, base_url: str, username: str) -> None:
    """Log ``username`` in through the login form (test users' password is ``pw-<username>``)."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click("button[type=submit]:has-text('Log in')")
    expect(page.locator("#whoami")).to_have_text(username)
