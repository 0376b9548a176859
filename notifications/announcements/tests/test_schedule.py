"""Scheduled starts and expiries: the scheduler task run directly, then by a real Celery beat and worker."""

from __future__ import annotations

import datetime
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from conftest import start_process, stop_process, subprocess_env
from notifications.announcements import services, tasks
from notifications.announcements.models import Announcement
from notifications.announcements.tests.conftest import client_for, events_until_marker, send_marker


def later(seconds: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(seconds=seconds)


def time_passes(announcement: Announcement, **fields: datetime.datetime) -> None:
    """Move the start or expiry into the past, as if time had passed (no version bump)."""
    Announcement.objects.filter(pk=announcement.pk).update(**fields)


async def test_scheduler_task_shows_at_start_and_hides_at_expiry(live_hub: Any, people: dict) -> None:
    """Run directly, the task shows a started announcement once and hides it once it expired."""
    async with client_for(live_hub, people["alice"]) as alice:
        announcement = await sync_to_async(services.create_announcement)(
            title="maintenance at noon", audience="authenticated", starts_at=later(3600), expires_at=later(7200)
        )
        await sync_to_async(tasks.publish_due)()
        await send_marker()
        assert await events_until_marker(alice) == []

        await sync_to_async(time_passes)(announcement, starts_at=later(-1))
        assert await sync_to_async(tasks.publish_due)() == {"shown": 1, "hidden": 0}
        assert await sync_to_async(tasks.publish_due)() == {"shown": 0, "hidden": 0}
        await send_marker()
        (shown,) = await events_until_marker(alice)
        assert (shown["event"], shown["data"]["title"]) == ("announcement.show", "maintenance at noon")

        await sync_to_async(time_passes)(announcement, expires_at=later(-0.5))
        assert await sync_to_async(tasks.publish_due)() == {"shown": 0, "hidden": 1}
        assert await sync_to_async(tasks.publish_due)() == {"shown": 0, "hidden": 0}
        await send_marker()
        (hidden,) = await events_until_marker(alice)
        assert (hidden["event"], hidden["data"]) == ("announcement.hide", {"id": announcement.pk, "version": 1})

    async with client_for(live_hub, people["alice"]) as again:
        await send_marker()
        assert await events_until_marker(again) == []


@pytest.fixture
def beat(celery_worker: Path, tmp_path: Path) -> Iterator[Path]:
    """Run Celery beat with a one-second announcement schedule, beside the session's worker."""
    log = tmp_path / "beat.log"
    command = [
        sys.executable, "-m", "celery", "-A", "workers", "beat", "--loglevel", "INFO",
        "--schedule", str(tmp_path / "celerybeat-schedule"),
    ]  # fmt: skip
    env = subprocess_env(HUB_ANNOUNCEMENTS_SCHEDULE_SECONDS="1")
    process = start_process(command, log, lambda: b"beat: Starting" in log.read_bytes(), "Celery beat", env=env)
    yield log
    stop_process(process)


async def test_beat_shows_and_hides_on_time(live_hub: Any, people: dict, beat: Path) -> None:
    """With beat and a worker running, an announcement appears at its start and goes at its expiry."""
    async with client_for(live_hub, people["staff"]) as staff:
        announcement = await sync_to_async(services.create_announcement)(
            title="deploy", audience="staff", starts_at=later(1.5), expires_at=later(3.5)
        )
        shown = await staff.next_event(timeout=15)
        assert (shown["event"], shown["data"]["id"]) == ("announcement.show", announcement.pk)
        assert datetime.datetime.fromisoformat(shown["data"]["starts"]) <= timezone.now()
        hidden = await staff.next_event(timeout=15)
        assert (hidden["event"], hidden["data"]["id"]) == ("announcement.hide", announcement.pk)
        assert timezone.now() >= announcement.expires_at
    stored = await sync_to_async(Announcement.objects.get)(pk=announcement.pk)
    assert stored.shown_at >= announcement.starts_at and stored.hidden_at >= announcement.expires_at
