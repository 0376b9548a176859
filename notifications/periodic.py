"""Periodic work that the hub's apps declare for themselves.

An app calls :func:`every` in its ``AppConfig.ready``; Celery beat adds the entries
when it starts (the ``beat_init`` signal), so a host project adds nothing to
``CELERY_BEAT_SCHEDULE``. An entry of the same name in ``CELERY_BEAT_SCHEDULE`` wins.

An entry declared ``in_beat=True`` runs in the beat process itself, in a thread, instead
of being sent to a worker: work that must go on when every worker is dead (the sweep that
fails jobs whose worker died).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from django.db import close_old_connections
from django.utils.module_loading import import_string

from notifications.conf import hub_settings

__all__ = ["every", "schedule"]

logger = logging.getLogger(__name__)


class _Entry:
    __slots__ = ("in_beat", "realtime", "seconds", "task")

    def __init__(self, task: str, seconds: Callable[[], float], in_beat: bool, realtime: bool):
        self.task, self.seconds, self.in_beat, self.realtime = task, seconds, in_beat, realtime


_entries: dict[str, _Entry] = {}


def every(name: str, task: str, seconds: Callable[[], float], *, in_beat: bool = False, realtime: bool = False) -> None:
    """Run ``task`` (a dotted task name) every ``seconds()`` seconds: sent to a worker, or ``in_beat`` itself.

    ``realtime`` work goes to ``HUB_REALTIME_QUEUE``, whose worker long jobs never hold up.
    """
    _entries[name] = _Entry(task, seconds, in_beat, realtime)


def schedule() -> dict[str, dict[str, Any]]:
    """Return the entries beat sends to workers, as ``CELERY_BEAT_SCHEDULE`` entries, periods read now."""
    entries = {}
    for name, entry in _entries.items():
        if entry.in_beat:
            continue
        period = float(entry.seconds())
        # A run that waited longer than a period is superseded by the next one.
        options: dict[str, Any] = {"expires": period}
        if entry.realtime:
            options["queue"] = hub_settings.HUB_REALTIME_QUEUE
        entries[name] = {"task": entry.task, "schedule": period, "options": options}
    return entries


def add_to_beat(sender: Any, **kwargs: Any) -> None:
    """On ``beat_init``: add the entries the host's own schedule does not name; start the in-beat ones."""
    scheduler = sender.scheduler
    own = set(scheduler.app.conf.beat_schedule or {})
    added = {name: entry for name, entry in schedule().items() if name not in own}
    scheduler.update_from_dict(added)
    in_beat = [name for name, entry in _entries.items() if entry.in_beat and name not in own]
    for name in in_beat:
        thread = threading.Thread(target=_run_forever, args=(name, _entries[name]), name=name, daemon=True)
        thread.start()
    logger.info("Hub periodic tasks: %s; run in beat itself: %s", ", ".join(sorted(added)) or "none",
                ", ".join(sorted(in_beat)) or "none")  # fmt: skip


def _run_forever(name: str, entry: _Entry) -> None:
    """Run ``entry``'s task in this process every period, until the process ends; failures are logged."""
    task = import_string(entry.task)
    stop = threading.Event()  # never set: the thread is a daemon and ends with beat
    while not stop.wait(float(entry.seconds())):
        try:
            task()
        except Exception:
            logger.exception("The in-beat periodic task %s failed; it runs again next period", name)
        finally:
            close_old_connections()
