"""Pages served by settings.production carry the security headers and pass their own CSP in Chromium.

Compose's Uvicorn command, under HUB_PLAIN_HTTP=true since the test has no TLS (the HTTPS side,
HSTS included, is checked in test_security.py). Plain sync tests: Playwright's sync API cannot
run inside pytest-asyncio's loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from django.test import override_settings

from notifications.tests.browser import chat_line, log_in

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not importable").expect

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Collects the page's CSP violations, as the page itself sees them.
_WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


@dataclass
class Watched:
    """A page and what its console said."""

    page: Page
    console: list[str] = field(default_factory=list)

    def violations(self) -> list[str]:
        """Return the CSP violations seen so far: the console's reports and the page's own events."""
        reported = [text for text in self.console if "Content Security Policy" in text]
        return reported + self.page.evaluate("window.__cspViolations")


@pytest.fixture
def watched(new_context: Any) -> Watched:
    """Return a page that records CSP violations: console messages and securitypolicyviolation events."""
    page = new_context().new_page()
    page.add_init_script(_WATCH_VIOLATIONS)
    result = Watched(page)
    page.on("console", lambda message: result.console.append(message.text))
    return result


def _visit(page: Page, url: str) -> dict[str, str]:
    """Load ``url``; return its response headers after checking the ones every page carries."""
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    headers = response.all_headers()
    policy = dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'", policy
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    # The documented plain-HTTP switch: no HSTS (nor a redirect, as the 200 shows).
    assert "strict-transport-security" not in headers
    return headers


def test_pages_pass_their_csp_and_the_socket_connects(
    orm_beside_playwright: None, make_user: Any, production_hub: Any, watched: Watched
) -> None:
    """Home, chat and login, as a visitor and signed in: no CSP violation, and the chat socket subscribes."""
    base_url = production_hub(HUB_PLAIN_HTTP="true")
    page = watched.page
    for path in ("/", "/accounts/login/"):
        _visit(page, base_url + path)
    _visit(page, base_url + "/chat/csp-room/")
    expect(page.locator("#messages")).to_have_attribute("data-state", "subscribed")

    # settings.test hashes with MD5, which production does not read: store a hash it does.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"]):
        make_user("dana")
    log_in(page, base_url, "dana")
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert not cookies["sessionid"]["secure"] and cookies["sessionid"]["httpOnly"]
    _visit(page, base_url + "/chat/csp-room/")
    expect(page.locator("#messages")).to_have_attribute("data-state", "subscribed")
    page.fill("#chat-input", "hello under a strict policy")
    page.press("#chat-input", "Enter")
    expect(page.locator("#messages li").last).to_have_text(chat_line("dana", "hello under a strict policy"))
    assert watched.violations() == []


def test_an_inline_script_would_be_reported(production_hub: Any, watched: Watched) -> None:
    """The watch works: a script injected inline is refused and seen, by the console and by the event."""
    base_url = production_hub(HUB_PLAIN_HTTP="true")
    page = watched.page
    _visit(page, base_url + "/")
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__ran = true";
        document.body.append(script);
    }""")
    page.wait_for_function("() => window.__cspViolations.length > 0")  # a function: CSP refuses eval of a string
    assert page.evaluate("window.__ran === undefined")
    violations = watched.violations()
    assert any("Content Security Policy" in text for text in watched.console), watched.console
    assert any(violation.startswith("script-src") for violation in violations), violations
