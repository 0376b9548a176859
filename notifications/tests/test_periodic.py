"""Apps schedule their own periodic tasks; beat adds them at start, the project's own entries win."""

from __future__ import annotations

from types import SimpleNamespace

from celery import Celery
from celery.beat import Scheduler
from django.test import override_settings

from notifications import periodic


@override_settings(HUB_DASHBOARD_REFRESH_EVERY=7.0)
def test_beat_gets_every_feature_entry_with_its_period_from_the_settings() -> None:
    """At beat_init the features' entries join the schedule; each expires after one period."""
    app = Celery(set_as_current=False)
    scheduler = Scheduler(app, lazy=True)
    periodic.add_to_beat(SimpleNamespace(scheduler=scheduler))
    names = set(scheduler.schedule)
    assert {"jobs-delete-old", "inbox-purge-expired", "announcements-publish-due", "dashboards-sample-hub",
            "dashboards-refresh"} <= names  # fmt: skip
    refresh = scheduler.schedule["dashboards-refresh"]
    assert refresh.task == "notifications.dashboards.tasks.refresh_dashboards"
    assert refresh.schedule.run_every.total_seconds() == 7.0 and refresh.options["expires"] == 7.0
    # The lost-job sweep runs in beat itself (tasks/tests/test_worker_lost.py), never through a worker.
    assert "jobs-sweep-lost" not in names


def test_an_entry_of_the_same_name_in_the_projects_schedule_wins() -> None:
    """A project that configures jobs-delete-old itself keeps its own entry."""
    app = Celery(set_as_current=False)
    app.conf.beat_schedule = {"jobs-delete-old": {"task": "mine.delete", "schedule": 99.0}}
    scheduler = Scheduler(app, lazy=True)
    scheduler.update_from_dict(app.conf.beat_schedule)
    periodic.add_to_beat(SimpleNamespace(scheduler=scheduler))
    assert scheduler.schedule["jobs-delete-old"].task == "mine.delete"
