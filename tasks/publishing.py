"""Tasks that push events from a worker, through the publishing API (routed to the realtime queue in settings)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from notifications import publish


@shared_task
def notify_user(user_id: int, event: str, data: Any = None) -> None:
    """Send ``event`` to user ``user_id``'s open connections."""
    publish.to_user(user_id, event, data)


@shared_task
def notify_topic(topic: str, event: str, data: Any = None) -> None:
    """Send ``event`` to the subscribers of ``topic``."""
    publish.to_topic(topic, event, data)
