"""Celery tasks of the announcements: the scheduler that beat runs every few seconds."""

from __future__ import annotations

from celery import shared_task

from notifications.announcements import services


@shared_task(name="notifications.announcements.tasks.publish_due")
def publish_due() -> dict[str, int]:
    """Show announcements whose start has passed and hide those that ended; return the counts."""
    return services.run_schedule()
