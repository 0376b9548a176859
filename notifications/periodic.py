"""Periodic Celery tasks that the hub's apps declare for themselves.

An app calls :func:`every` in its ``AppConfig.ready``; Celery beat adds the entries
when it starts (the ``beat_init`` signal), so a host project adds nothing to
``CELERY_BEAT_SCHEDULE``. An entry of the same name in ``CELERY_BEAT_SCHEDULE`` wins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

__all__ = ["every", "schedule"]

logger = logging.getLogger(__name__)

_entries: dict[str, tuple[str, Callable[[], float]]] = {}


def every(name: str, task: str, seconds: Callable[[], float]) -> None:
    """Run ``task`` (a dotted task name) every ``seconds()`` seconds under beat; each run expires after one period."""
    _entries[name] = (task, seconds)


def schedule() -> dict[str, dict[str, Any]]:
    """Return the declared entries as ``CELERY_BEAT_SCHEDULE`` entries, periods read from the settings now."""
    entries = {}
    for name, (task, seconds) in _entries.items():
        period = float(seconds())
        # A run that waited longer than a period is superseded by the next one.
        entries[name] = {"task": task, "schedule": period, "options": {"expires": period}}
    return entries


def add_to_beat(sender: Any, **kwargs: Any) -> None:
    """On ``beat_init``: add the declared entries the host's own schedule does not name."""
    scheduler = sender.scheduler
    own = set(scheduler.app.conf.beat_schedule or {})
    added = {name: entry for name, entry in schedule().items() if name not in own}
    scheduler.update_from_dict(added)
    logger.info("Hub periodic tasks added to beat: %s", ", ".join(sorted(added)) or "none")
