"""Refuses websockets opened by pages of other sites: the Origin must be one of the site's own.

The allowed origins are ``HUB_ALLOWED_ORIGINS`` (``"https://example.org"``, ``"https://.example.org"``
for a domain and its subdomains, a port where it is not the scheme's default), else the hosts of
``ALLOWED_HOSTS`` on http and https, any port. ``"*"`` never means every origin: it allows nothing,
and the system checks report it (``notifications.E011``). Docs: docs/security.md, "Websocket origins".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from channels.security.websocket import OriginValidator
from django.conf import settings
from django.utils.http import is_same_domain

from notifications.conf import hub_settings

__all__ = ["OriginRule", "SameSiteOriginValidator", "allowed_origin_rules", "origin_allowed", "parse_origin"]

# Django's own hosts when DEBUG is on and ALLOWED_HOSTS is empty.
_DEBUG_HOSTS = (".localhost", "127.0.0.1", "[::1]")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class OriginRule:
    """Origins a page may have: one of ``schemes``, a host matching ``host`` (".x": x and its subdomains), ``port``.

    ``port`` None means any port (the rules derived from ALLOWED_HOSTS, which name no port).
    """

    schemes: tuple[str, ...]
    host: str
    port: int | None

    def matches(self, scheme: str, host: str, port: int) -> bool:
        """Tell whether the origin ``scheme://host:port`` is one of this rule's."""
        return scheme in self.schemes and (self.port is None or port == self.port) and is_same_domain(host, self.host)


def parse_origin(entry: Any) -> OriginRule | None:
    """Return the rule of one ``HUB_ALLOWED_ORIGINS`` entry, or None if it is not an http(s) origin or has a "*"."""
    if not isinstance(entry, str) or "*" in entry:
        return None
    split = _split(entry)
    if split is None:
        return None
    parts, host, port = split
    if parts.username or parts.password or parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    return OriginRule((parts.scheme,), host, port)


def allowed_origin_rules() -> list[OriginRule]:
    """Return the rules of HUB_ALLOWED_ORIGINS if set, else those of ALLOWED_HOSTS; never one allowing every origin."""
    explicit = hub_settings.HUB_ALLOWED_ORIGINS
    if explicit is not None:
        if isinstance(explicit, str):
            return []  # a string, not a list: reported by notifications.E011, allows nothing meanwhile
        return [rule for rule in map(parse_origin, explicit) if rule is not None]
    hosts = list(settings.ALLOWED_HOSTS) or (list(_DEBUG_HOSTS) if settings.DEBUG else [])
    return [
        OriginRule(tuple(_DEFAULT_PORTS), host.lower().strip("[]"), None)
        for host in hosts
        if isinstance(host, str) and host and "*" not in host
    ]


def origin_allowed(origin: str | None) -> bool:
    """Tell whether a websocket may open with this Origin header: none at all (a script), or an allowed one."""
    if origin is None:
        return True
    split = _split(origin)
    if split is None:
        return False  # "null" (sandboxed frames, files) and other schemes are never a site of ours
    parts, host, port = split
    return any(rule.matches(parts.scheme, host, port) for rule in allowed_origin_rules())


def _split(origin: str) -> tuple[SplitResult, str, int] | None:
    """Return an http(s) origin's parts (lower case), host and port (the scheme's by default), or None."""
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts, parts.hostname, port or _DEFAULT_PORTS[parts.scheme]


class SameSiteOriginValidator(OriginValidator):
    """Channels' ``OriginValidator`` over :func:`origin_allowed`: own origins, or no Origin at all.

    Browsers always send ``Origin`` on a websocket handshake, so a missing one means a
    script or a server-side client, which cannot be a cross-site page riding on cookies.
    The rules are read at each handshake, so ``override_settings`` applies.
    """

    def __init__(self, application: Any):
        super().__init__(application, [])

    def valid_origin(self, parsed_origin: Any) -> bool:
        """Accept no Origin at all, or one that :func:`origin_allowed` accepts."""
        return origin_allowed(None if parsed_origin is None else parsed_origin.geturl())
