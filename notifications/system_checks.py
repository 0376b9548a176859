"""System checks: misconfiguration is reported at start-up, not at the first event."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error

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


def check_channel_layer(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Check that the default channel layer is the hub's and that every HUB_* number is in range."""
    errors = []
    backend = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND")
    if backend != "notifications.layers.HubChannelLayer":
        errors.append(
            Error(
                "CHANNEL_LAYERS['default'] must use notifications.layers.HubChannelLayer, not %r." % backend,
                hint="Event ids and history need it; see README.md, Settings.",
                id="notifications.E001",
            )
        )
    for name in _POSITIVE:
        value = getattr(settings, name, None)
        if not isinstance(value, (int, float)) or value <= 0:
            errors.append(Error("%s must be a positive number, not %r." % (name, value), id="notifications.E002"))
    threshold = getattr(settings, "HUB_GC_THRESHOLD", 0)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        errors.append(
            Error(
                "HUB_GC_THRESHOLD must be 0 (Python's default) or a positive number, not %r." % (threshold,),
                id="notifications.E002",
            )
        )
    return errors
