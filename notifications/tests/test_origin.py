"""The websocket's Origin check: the site's own origins (HUB_ALLOWED_ORIGINS, else ALLOWED_HOSTS), never "*"."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from notifications.asgi import websocket_app
from notifications.origin import origin_allowed

websocket_application = websocket_app(tune_gc=False)

pytestmark = pytest.mark.django_db(transaction=True)

EXPLICIT = ["https://example.org", "https://.example.net", "http://localhost:8000"]


async def _connects(origin: str | None) -> bool:
    """Open a socket with this Origin header (None: none at all) and tell whether the handshake was accepted."""
    headers = [] if origin is None else [(b"origin", origin.encode("latin1"))]
    communicator = WebsocketCommunicator(websocket_application, "/ws/", headers=headers)
    connected, _code = await communicator.connect(timeout=5)
    if connected:
        hello = await communicator.receive_json_from(timeout=5)
        assert hello["type"] == "hello"
        await communicator.disconnect()
    return connected


@pytest.mark.parametrize("origin", [None, "http://127.0.0.1:8000", "https://localhost", "http://[::1]:8000"])
async def test_own_origins_and_scripts_connect(origin: str | None) -> None:
    """Pages of ALLOWED_HOSTS (http or https, any port) and clients without an Origin get their hello."""
    assert await _connects(origin)


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", "https://127.0.0.1.evil.example", "file://", "ftp://127.0.0.1"]
)
async def test_other_origins_are_refused(origin: str) -> None:
    """A page of another site, a sandboxed frame ("null") or another scheme cannot open a socket."""
    assert not await _connects(origin)


@pytest.mark.parametrize("overrides", [{"ALLOWED_HOSTS": ["*"]}, {"HUB_ALLOWED_ORIGINS": ["*"]}])
async def test_a_wildcard_never_means_any_origin(overrides: dict) -> None:
    """'*' in ALLOWED_HOSTS or HUB_ALLOWED_ORIGINS allows no page (and fails the checks, E011); scripts still connect."""
    with override_settings(**overrides):
        assert not await _connects("http://evil.example")
        assert await _connects(None)


@override_settings(HUB_ALLOWED_ORIGINS=EXPLICIT)
async def test_explicit_origins_replace_allowed_hosts() -> None:
    """HUB_ALLOWED_ORIGINS is matched on scheme, host (".x": x and subdomains) and port; ALLOWED_HOSTS no longer counts."""
    assert await _connects("https://example.org")
    assert await _connects("https://chat.example.net")
    assert not await _connects("http://127.0.0.1:8000")


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://example.org", True),
        ("https://example.org:443", True),
        ("HTTPS://EXAMPLE.ORG", True),
        ("http://example.org", False),
        ("https://example.org:8443", False),
        ("https://sub.example.org", False),
        ("https://example.net", True),
        ("https://a.b.example.net", True),
        ("https://badexample.net", False),
        ("http://localhost:8000", True),
        ("http://localhost:8001", False),
        ("https://example.org:99999", False),
    ],
)
def test_explicit_origin_rules(origin: str, allowed: bool) -> None:
    """Each listed origin allows exactly its scheme, host and port (the scheme's default port when none is given)."""
    with override_settings(HUB_ALLOWED_ORIGINS=EXPLICIT):
        assert origin_allowed(origin) is allowed


@override_settings(ALLOWED_HOSTS=[".example.org", "127.0.0.1"], DEBUG=False)
def test_rules_derived_from_allowed_hosts() -> None:
    """A ".x" host allows x and its subdomains, on http and https, any port; nothing else."""
    assert origin_allowed("https://example.org") and origin_allowed("http://a.example.org:8000")
    assert origin_allowed("http://127.0.0.1:9000")
    assert not origin_allowed("https://example.org.evil.example") and not origin_allowed("https://localhost")


@override_settings(ALLOWED_HOSTS=[], DEBUG=True)
def test_debug_without_hosts_allows_the_loopback_only() -> None:
    """As Django does for Host headers: DEBUG with no ALLOWED_HOSTS means localhost and the loopback addresses."""
    assert origin_allowed("http://localhost:8000") and origin_allowed("http://[::1]:8000")
    assert not origin_allowed("http://evil.example")
