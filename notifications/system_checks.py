"""System checks: misconfiguration is reported at start-up, naming the setting, never as a crash.

Ids (docs/install.md, "System checks"):

- ``notifications.E001``: ``CHANNEL_LAYERS`` missing, or its default layer is not the hub's.
- ``notifications.E002``: a ``HUB_*`` number out of range.
- ``notifications.E003``: ``"channels"`` missing from ``INSTALLED_APPS``.
- ``notifications.E004``: a feature app installed without an app it needs.
- ``notifications.E010`` (``check --deploy``): ``SECRET_KEY`` empty, short or startproject's.
- ``notifications.E011``: the websocket's origin list would have a "*" (``HUB_ALLOWED_ORIGINS``,
  or ``ALLOWED_HOSTS`` from which it is derived), or an entry that is not an origin.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

from notifications import origin
from notifications.conf import hub_settings

__all__ = ["check_core", "check_secret_key", "positive_numbers", "requires_apps"]

LAYER_BACKEND = "notifications.layers.HubChannelLayer"
_LAYER_HINT = (
    'Add CHANNEL_LAYERS = {"default": {"BACKEND": "%s", "CONFIG": {"hosts": [REDIS_URL]}}} '
    "to your settings (docs/install.md, step 3)." % LAYER_BACKEND
)
_MAX_WRITE_DELAY = 1.0  # seconds: beyond, events would wait longer than a client's patience
_SECRET_KEY_MIN_LENGTH = 50  # as Django's security.W009
_SECRET_KEY_MIN_UNIQUE = 5
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
    "HUB_PRESENCE_TIMEOUT",
)


def check_core(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Check the channel layer, the installed apps, the core's HUB_* numbers and the websocket's origins."""
    errors = _check_layer()
    errors += requires_apps("notifications", ["channels"], "notifications.E003")
    errors += positive_numbers(_POSITIVE, "notifications.E002")
    errors += _check_origins()
    delay = hub_settings.HUB_WRITE_DELAY
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= _MAX_WRITE_DELAY:
        errors.append(
            Error(
                "HUB_WRITE_DELAY must be a number of seconds from 0 to %s, not %r." % (_MAX_WRITE_DELAY, delay),
                hint="Set HUB_WRITE_DELAY in your settings (0.05 to 0.2 for busy topics), or remove it for 0.",
                id="notifications.E002",
            )
        )
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


# Registered here, when apps.py imports this module, because deploy checks need their own tag.
@register(Tags.security, deploy=True)
def check_secret_key(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Refuse (``check --deploy``) a SECRET_KEY that is empty, short, repetitive or startproject's insecure one.

    Django's ``security.W009`` only warns; sessions, CSRF tokens and hub tokens are all signed with it.
    """
    try:
        key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django raises it for an empty SECRET_KEY
        key = ""
    if not isinstance(key, str):
        problem = "SECRET_KEY must be a string, not %s." % type(key).__name__
    elif not key:
        problem = "SECRET_KEY is empty."
    elif len(key) < _SECRET_KEY_MIN_LENGTH or len(set(key)) < _SECRET_KEY_MIN_UNIQUE:
        problem = "SECRET_KEY has %d characters, %d of them different: it needs %d, %d different." % (
            len(key), len(set(key)), _SECRET_KEY_MIN_LENGTH, _SECRET_KEY_MIN_UNIQUE,
        )  # fmt: skip
    elif key.startswith("django-insecure-"):
        problem = "SECRET_KEY is the insecure one that startproject generated."
    else:
        return []
    hint = (
        "Set SECRET_KEY to a long random value kept out of the code (this project reads it from the "
        "DJANGO_SECRET_KEY environment variable), e.g. the output of: "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
    return [Error(problem, hint=hint, id="notifications.E010")]


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


def _check_origins() -> list[Error]:
    """E011: the websocket's origin list must never contain "*" (which the hub refuses to read as "every origin")."""
    explicit = hub_settings.HUB_ALLOWED_ORIGINS
    hint = (
        'List the origins of your pages, e.g. HUB_ALLOWED_ORIGINS = ["https://example.org"] '
        '(docs/security.md, "Websocket origins").'
    )
    if explicit is None:
        if "*" not in settings.ALLOWED_HOSTS:
            return []
        message = (
            "ALLOWED_HOSTS contains '*', and HUB_ALLOWED_ORIGINS is unset: the websocket's origins are derived "
            "from ALLOWED_HOSTS, and '*' would let any site open a socket with a user's cookies, so it allows none."
        )
        return [Error(message, hint=hint, id="notifications.E011")]
    if isinstance(explicit, str) or not isinstance(explicit, (list, tuple)):
        return [Error("HUB_ALLOWED_ORIGINS must be a list of origins, not %r." % (explicit,), hint=hint,
                      id="notifications.E011")]  # fmt: skip
    errors = []
    for entry in explicit:
        if isinstance(entry, str) and "*" in entry:
            message = "HUB_ALLOWED_ORIGINS contains %r: a '*' never means every origin, and allows none." % entry
        elif origin.parse_origin(entry) is None:
            message = "HUB_ALLOWED_ORIGINS contains %r, which is not an origin like 'https://example.org'." % (entry,)
        else:
            continue
        errors.append(Error(message, hint=hint, id="notifications.E011"))
    return errors


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
