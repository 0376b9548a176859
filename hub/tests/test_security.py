"""Production settings that refuse to be unsafe, checked on the real thing: manage.py and compose's Uvicorn."""

from __future__ import annotations

import http.client
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from hub.tests.conftest import ROOT, manage, production_env

pytestmark = pytest.mark.django_db(transaction=True)


def _get(base_url: str, path: str, **headers: str) -> http.client.HTTPResponse:
    """GET ``path`` without following redirects; return the response, its body read."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    connection.request("GET", path, headers={"Host": address.netloc, **headers})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_an_empty_secret_key_fails_check_deploy_with_e010() -> None:
    """settings.production loads without DJANGO_SECRET_KEY, and `check --deploy` exits non-zero naming E010."""
    checked = manage("check", "--deploy", env=production_env(DJANGO_SECRET_KEY=""))
    assert checked.returncode != 0
    assert "notifications.E010" in checked.stderr and "DJANGO_SECRET_KEY" in checked.stderr


def test_the_production_defaults_pass_check_deploy() -> None:
    """With a strong secret and no switch, Django's deploy checks find nothing but the HSTS-preload reminder."""
    checked = manage("check", "--deploy", env=production_env())
    assert checked.returncode == 0, checked.stderr
    assert set(re.findall(r"\(([\w.]+\.[EW]\d+)\)", checked.stderr)) <= {"security.W021"}


def test_the_plain_http_switch_is_reported_by_check_deploy() -> None:
    """HUB_PLAIN_HTTP=true turns off HSTS, the HTTPS redirect and secure cookies, and Django's checks say so."""
    checked = manage("check", "--deploy", env=production_env(HUB_PLAIN_HTTP="true"))
    assert checked.returncode == 0, checked.stderr
    assert {"security.W004", "security.W008", "security.W012", "security.W016"} <= set(
        re.findall(r"\(([\w.]+\.W\d+)\)", checked.stderr)
    )


def test_forwarded_headers_from_everyone_are_refused() -> None:
    """FORWARDED_ALLOW_IPS='*' stops settings.production from loading at all."""
    checked = manage("check", env=production_env(FORWARDED_ALLOW_IPS="*"))
    assert checked.returncode != 0 and "FORWARDED_ALLOW_IPS" in checked.stderr


def test_https_headers_from_a_trusted_proxy(production_hub: Any) -> None:
    """Plain HTTP is redirected; HTTPS (X-Forwarded-Proto from a listed proxy) gets HSTS, CSP and secure cookies."""
    base_url = production_hub()
    redirected = _get(base_url, "/accounts/login/")
    assert redirected.status == 301
    assert redirected.headers["Location"] == base_url.replace("http:", "https:") + "/accounts/login/"
    assert "Strict-Transport-Security" not in redirected.headers

    page = _get(base_url, "/accounts/login/", **{"X-Forwarded-Proto": "https"})
    assert page.status == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["X-Frame-Options"] == "DENY"
    policy = dict(part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert policy["connect-src"] == "'self' wss://127.0.0.1", "no ws: without the plain-HTTP switch"
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("csrftoken=") and "Secure" in cookie


def test_forwarded_headers_from_other_peers_are_ignored(production_hub: Any) -> None:
    """When 127.0.0.1 is not one of FORWARDED_ALLOW_IPS, its X-Forwarded-Proto is not believed: still a redirect."""
    base_url = production_hub(FORWARDED_ALLOW_IPS="192.0.2.1")  # a documentation address, never contacted
    assert _get(base_url, "/", **{"X-Forwarded-Proto": "https"}).status == 301


def test_the_plain_http_switch_serves_http(production_hub: Any) -> None:
    """With HUB_PLAIN_HTTP=true pages are served over HTTP, without HSTS, cookies not marked Secure."""
    base_url = production_hub(HUB_PLAIN_HTTP="true")
    page = _get(base_url, "/accounts/login/")
    assert page.status == 200 and "Strict-Transport-Security" not in page.headers
    assert "Secure" not in page.headers["Set-Cookie"]
    assert "ws://127.0.0.1" in page.headers["Content-Security-Policy"]


def test_wrong_passwords_lock_the_login_out(make_user: Any) -> None:
    """AXES_FAILURE_LIMIT wrong passwords lock that username from that address out (429), the right one included."""
    make_user("carol")
    browser = Client()
    answers = [
        browser.post("/accounts/login/", {"username": "carol", "password": "wrong"}).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert answers == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    locked = browser.post("/accounts/login/", {"username": "carol", "password": "pw-carol"})
    assert locked.status_code == 429 and "_auth_user_id" not in browser.session
    # The lockout is of that username from that address (AXES_LOCKOUT_PARAMETERS): another address logs in.
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    assert elsewhere.post("/accounts/login/", {"username": "carol", "password": "pw-carol"}).status_code == 302


class _InlineScripts(HTMLParser):
    """Collects the <script> elements of a template that have code but no src (JSON data blocks aside)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[int] = []
        self._open: tuple[int, bool] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            names = dict(attrs)
            self._open = (self.getpos()[0], "src" not in names and names.get("type") != "application/json")

    def handle_data(self, data: str) -> None:
        if self._open and self._open[1] and data.strip():
            self.found.append(self._open[0])

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open = None


def _templates() -> list[Path]:
    return sorted([*(ROOT / "templates").rglob("*.html"), *(ROOT / "notifications").glob("**/templates/**/*.html")])


@pytest.mark.parametrize("template", _templates(), ids=lambda path: str(path.relative_to(ROOT)))
def test_templates_have_no_inline_script(template: Path) -> None:
    """No template carries inline script or on* handlers: the CSP's script-src is 'self' only."""
    parser = _InlineScripts()
    text = template.read_text()
    parser.feed(text)
    assert parser.found == [], f"inline <script> at lines {parser.found}: move it to a static file"
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", text), "an on* attribute is inline script"
