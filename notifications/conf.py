"""Every ``HUB_*`` setting and its default, in one place.

A host project overrides only what it needs in its ``settings.py``; everything else
reads from here. Read them as attributes of :data:`hub_settings`::

    from notifications.conf import hub_settings

    hub_settings.HUB_HEARTBEAT  # settings.HUB_HEARTBEAT if set, else 25

Nothing is cached, so ``override_settings`` in tests works as usual. docs/settings.md
explains each one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

__all__ = ["DEFAULTS", "hub_settings", "state_dir"]

DEFAULTS: dict[str, Any] = {
    # --- the core: connections, frames, history (docs/protocol.md) ---
    "HUB_ALLOW_ANONYMOUS": True,
    "HUB_HEARTBEAT": 25,
    "HUB_MAX_FRAME_BYTES": 64 * 1024,
    "HUB_MAX_EVENT_BYTES": 32 * 1024,
    "HUB_MAX_SUBSCRIPTIONS": 50,
    "HUB_RATE_LIMIT": 20.0,
    "HUB_RATE_BURST": 40,
    # Connections one client address may hold open on one server process (0: no cap); beyond: close 4030.
    "HUB_MAX_CONNECTIONS_PER_ADDRESS": 100,
    # Client publishes per second, and at once, of one user (or visitor address) across all its connections.
    "HUB_PUBLISH_RATE": 5.0,
    "HUB_PUBLISH_BURST": 20,
    "HUB_TOKEN_MAX_AGE": 3600,
    # Origins whose pages may open the websocket, e.g. ["https://example.org"] (None: the hosts of
    # ALLOWED_HOSTS, on http and https, any port). "*" never means every origin (notifications.E011).
    "HUB_ALLOWED_ORIGINS": None,
    # Seconds after which the members of a server process that died (SIGKILL, lost host) leave presence topics.
    "HUB_PRESENCE_TIMEOUT": 30,
    # permessage-deflate for clients that offer it (browsers do), under `python -m notifications.servers
    # uvicorn`: smaller frames, at a zlib context (~35 KB) per connection and a compression per frame.
    "HUB_WEBSOCKET_COMPRESSION": False,
    # Seconds a batching websocket (?batch=1) waits after an event for more, to send them in one
    # write: fewer socket writes for clients of busy topics, at this much added latency (0: at once).
    "HUB_WRITE_DELAY": 0.0,
    "HUB_HISTORY_SIZE": 500,
    "HUB_HISTORY_TTL": 3600,
    # Per-pattern history sizes over the declared ones, e.g. {"chat.{room}": 200}.
    "HUB_TOPIC_HISTORY": {},
    # Server processes only: the youngest generation's threshold (0 = Python's default).
    "HUB_GC_THRESHOLD": 50_000,
    # The Celery queue of realtime work (dashboard pushes, hub samples, the announcement scheduler),
    # served by its own worker so that long jobs never hold it up.
    "HUB_REALTIME_QUEUE": "hub-realtime",
    # A bearer token that lets a scraper read /hub/metrics (None: staff only).
    "HUB_METRICS_TOKEN": None,
    # --- manage.py runhub ---
    # Where runhub keeps the embedded Redis's files and its URL (None: ".hub" in the working directory).
    "HUB_STATE_DIR": None,
    # The Celery app runhub starts a worker and beat for, as for `celery -A` (None: found next to
    # ASGI_APPLICATION's package if it has a celery module; else no worker).
    "HUB_CELERY_APP": None,
    # Management commands runhub runs after migrate, before serving (the demo seeds its users).
    "HUB_RUNHUB_COMMANDS": [],
    # Memory cap of runhub's embedded Redis (policy noeviction: writes fail when full, nothing is evicted).
    "HUB_EMBEDDED_REDIS_MAXMEMORY": "256mb",
    # --- notifications.inbox ---
    "HUB_INBOX_RETENTION_DAYS": 90,
    "HUB_INBOX_PAGE_SIZE": 20,
    # --- notifications.jobs ---
    "HUB_JOB_PROGRESS_INTERVAL": 0.25,
    "HUB_JOB_CANCEL_POLL": 0.5,
    "HUB_JOB_HEARTBEAT": 10.0,
    "HUB_JOB_LOST_AFTER": 60.0,
    "HUB_JOB_SWEEP_INTERVAL": 30.0,
    # Hard limit of a job, in seconds: below Celery's Redis visibility timeout (3600 s by default).
    "HUB_JOB_MAX_RUNTIME": 3000,
    "HUB_JOB_RETENTION_DAYS": 30,
    # Private folder of the files jobs produce (None: "job-files" in HUB_STATE_DIR).
    "HUB_JOB_FILES_DIR": None,
    # --- notifications.announcements ---
    "HUB_ANNOUNCEMENTS_SCHEDULE_SECONDS": 5.0,
    # --- notifications.dashboards ---
    "HUB_DASHBOARD_INTERVAL": 0.5,
    "HUB_DASHBOARD_POINTS": 60,
    "HUB_DASHBOARD_HUB_EVERY": 2.0,
    "HUB_DASHBOARD_REFRESH_EVERY": 60.0,
}


class _HubSettings:
    """``settings.<NAME>`` if the host set it, else the default above; unknown names raise AttributeError."""

    def __getattr__(self, name: str) -> Any:
        try:
            default = DEFAULTS[name]
        except KeyError:
            raise AttributeError("%r is not a hub setting" % name) from None
        return getattr(settings, name, default)


hub_settings = _HubSettings()


def state_dir() -> Path:
    """Return the folder of the hub's runtime files: HUB_STATE_DIR, or ".hub" in the working directory."""
    return Path(hub_settings.HUB_STATE_DIR or Path.cwd() / ".hub")
