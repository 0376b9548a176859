"""System checks: misconfiguration is reported at start-up, naming the setting, never as a crash.

Ids (docs/install.md, "System checks"):

- ``notifications.E001``: ``CHANNEL_LAYERS`` missing, or its default layer is not the hub's.
- ``notifications.E002``: a ``HUB_*`` number out of range.
- ``notifications.E003``: ``"channels"`` missing from ``INSTALLED_APPS``.
- ``notifications.E004``: a feature app installed without an app it needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import Error

from notifications.conf import hub_settings

__all__ = ["check_core", "positive_numbers", "requires_apps"]

LAYER_BACKEND = "notifications.layers.HubChannelLayer"
_LAYER_HINT = (
    'Add CHANNEL_LAYERS = {"default": {"BACKEND": "%s", "CONFIG": {"hosts": [REDIS_URL]}}} '
    "to your settings (docs/install.md, step 3)." % LAYER_BACKEND
)
_POSITIVE = (
    "HUB_HEARTBEAT",
    "HUB_MAX_FRAME_BYTES",
    "HUB_MAX_EVENT_BYTES",
    "HUB_MAX_SUBSCRIPTIONS",
    "HUB_RATE_LIMIT",
    "HUB_RATE_BURST",
    "HUB_TOKEN_MAX_AGE",
    "HUB_HISTORY_SIZE",
    "HUB_HISTORY_TTL",
)


def check_core(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Check the channel layer, the installed apps and the core's HUB_* numbers."""
    errors = _check_layer()
    errors += requires_apps("notifications", ["channels"], "notifications.E003")
    errors += positive_numbers(_POSITIVE, "notifications.E002")
    threshold = hub_settings.HUB_GC_THRESHOLD
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        errors.append(
            Error(
                "HUB_GC_THRESHOLD must be 0 (Python's default) or a positive number, not %r." % (threshold,),
                hint="Set HUB_GC_THRESHOLD in your settings, or remove it for the default (50000).",
                id="notifications.E002",
            )
        )
    return errors


def positive_numbers(names: Iterable[str], check_id: str) -> list[Error]:
    """Return an error for each of the hub settings ``names`` that is not a positive number."""
    errors = []
    for name in names:
        value = getattr(hub_settings, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            errors.append(
                Error(
                    "%s must be a positive number, not %r." % (name, value),
                    hint="Set %s in your settings, or remove it for the default (%r)." % (name, _default(name)),
                    id=check_id,
                )
            )
    return errors


def requires_apps(app: str, needed: Iterable[str], check_id: str) -> list[Error]:
    """Return an error for each app of ``needed`` missing from INSTALLED_APPS, which ``app`` needs."""
    return [
        Error(
            "%r needs %r in INSTALLED_APPS." % (app, name),
            hint="Add %r to INSTALLED_APPS (docs/install.md, step 2)." % name,
            id=check_id,
        )
        for name in needed
        if not apps.is_installed(name)
    ]


def _check_layer() -> list[Error]:
    layers = getattr(settings, "CHANNEL_LAYERS", None)
    if not isinstance(layers, dict) or not isinstance(layers.get("default"), dict):
        return [Error("CHANNEL_LAYERS has no 'default' layer.", hint=_LAYER_HINT, id="notifications.E001")]
    backend = layers["default"].get("BACKEND")
    if backend != LAYER_BACKEND:
        return [
            Error(
                "CHANNEL_LAYERS['default'] must use %s, not %r." % (LAYER_BACKEND, backend),
                hint="Event ids and history need it. " + _LAYER_HINT,
                id="notifications.E001",
            )
        ]
    return []


def _default(name: str) -> Any:
    from notifications.conf import DEFAULTS

    return DEFAULTS[name]
