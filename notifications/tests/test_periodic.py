"""Apps schedule their own periodic tasks; beat adds them at start, the project's own entries win."""

from __future__ import annotations

from types import SimpleNamespace

from celery import Celery
from celery.beat import Scheduler
from django.test import override_settings

from notifications import periodic


@override_settings(HUB_JOB_SWEEP_INTERVAL=7.0)
def test_beat_gets_every_feature_entry_with_its_period_from_the_settings() -> None:
    """At beat_init the features' entries join the schedule; each expires after one period."""
    app = Celery(set_as_current=False)
    scheduler = Scheduler(app, lazy=True)
    periodic.add_to_beat(SimpleNamespace(scheduler=scheduler))
    names = set(scheduler.schedule)
    assert {"jobs-sweep-lost", "jobs-delete-old", "inbox-purge-expired", "announcements-publish-due",
            "dashboards-sample-hub", "dashboards-refresh"} <= names  # fmt: skip
    sweep = scheduler.schedule["jobs-sweep-lost"]
    assert sweep.task == "notifications.jobs.tasks.sweep_lost_jobs"
    assert sweep.schedule.run_every.total_seconds() == 7.0 and sweep.options["expires"] == 7.0


def test_an_entry_of_the_same_name_in_the_projects_schedule_wins() -> None:
    """A project that configures jobs-sweep-lost itself keeps its own entry."""
    app = Celery(set_as_current=False)
    app.conf.beat_schedule = {"jobs-sweep-lost": {"task": "mine.sweep", "schedule": 99.0}}
    scheduler = Scheduler(app, lazy=True)
    scheduler.update_from_dict(app.conf.beat_schedule)
    periodic.add_to_beat(SimpleNamespace(scheduler=scheduler))
    assert scheduler.schedule["jobs-sweep-lost"].task == "mine.sweep"
