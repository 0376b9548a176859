"""Headless Debian chromium for browser tests, driven by Playwright's sync API.

``playwright install`` is not used: the tests drive the distribution's chromium, and
skip (with the reason) when it or Playwright is missing. Use the ``chromium`` fixture::

    from notifications.tests.browser import chromium  # noqa: F401 (a fixture)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

__all__ = ["CHROMIUM", "chromium", "launch_chromium"]

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
