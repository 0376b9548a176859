"""Tasks that push events from a worker, through the publishing API, on the realtime queue."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from notifications import publish


@shared_task(queue=settings.HUB_REALTIME_QUEUE)
def notify_user(user_id: int, event: str, data: Any = None) -> None:
    """Send ``event`` to user ``user_id``'s open connections."""
    publish.to_user(user_id, event, data)


@shared_task(queue=settings.HUB_REALTIME_QUEUE)
def notify_topic(topic: str, event: str, data: Any = None) -> None:
    """Send ``event`` to the subscribers of ``topic``."""
    publish.to_topic(topic, event, data)
