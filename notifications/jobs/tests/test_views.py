"""The jobs' JSON states: what "my jobs" and a job's page read when their stream is reset."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from notifications.jobs.models import Job
from notifications.jobs.state import job_state

pytestmark = pytest.mark.django_db


def test_list_state_answers_the_users_jobs_newest_first_as_pushed(django_user_model: Any) -> None:
    """GET /jobs/state/: the user's own job states, newest first, in the events' shape; visitors go to log in."""
    alice = django_user_model.objects.create_user("alice")
    bob = django_user_model.objects.create_user("bob")
    older, newer = (Job.objects.create(owner=alice, kind="export_csv", title=title) for title in ("one", "two"))
    Job.objects.create(owner=bob, kind="export_csv", title="bob's")
    browser = Client()
    assert browser.get("/jobs/state/").status_code == 302
    browser.force_login(alice)

    response = browser.get("/jobs/state/")
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {"jobs": [job_state(newer), job_state(older)]}
