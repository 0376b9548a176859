"""The jobs pages over HTTP: login, CSRF, forms, the JSON state, and the admin."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from notifications.jobs import services
from notifications.jobs.models import Job
from notifications.jobs.state import STATE_KEYS, job_state
from notifications.jobs.tasks import delete_old_jobs
from tasks.tests.conftest import browser_for


def page_states(response: Any) -> list[dict]:
    """Return the job states embedded in the "my jobs" page."""
    found = re.search(rb'<script id="job-states" type="application/json">(.*?)</script>', response.content, re.S)
    return json.loads(found.group(1))


def test_pages_need_a_login(db: Any) -> None:
    """Visitors are sent to the login page by every jobs URL."""
    visitor = Client()
    for url in ("/jobs/", "/jobs/1/", "/jobs/1/state/", "/jobs/1/download/"):
        response = visitor.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url
    assert visitor.post("/jobs/export/", {"rows": 10}).url.startswith("/accounts/login/")


def test_starting_needs_post_and_the_csrf_token(make_user: Any) -> None:
    """A start form refuses GET (405) and a POST without the CSRF token (403), and starts nothing."""
    alice = make_user("alice")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.get("/jobs/export/").status_code == 405
    assert strict.post("/jobs/export/", {"rows": 10}).status_code == 403
    assert strict.post("/jobs/compute/", {"limit": 100}).status_code == 403
    assert not Job.objects.exists()


def test_invalid_forms_show_their_errors(make_user: Any) -> None:
    """Bad numbers re-render "my jobs" with the field's error (400) and start nothing."""
    client = browser_for(make_user("alice"))
    response = client.post("/jobs/export/", {"rows": 0})
    assert response.status_code == 400 and b"Ensure this value is greater than or equal to 1." in response.content
    response = client.post("/jobs/compute/", {"limit": "many"})
    assert response.status_code == 400 and b"Enter a whole number." in response.content
    assert not Job.objects.exists()


def test_started_jobs_are_listed_with_their_state(make_user: Any) -> None:
    """Both start forms record a queued job owned by the user, listed newest first in the page's state data."""
    alice, bob = make_user("alice"), make_user("bob")
    client = browser_for(alice)
    export = client.post("/jobs/export/", {"rows": 300, "pace": 0})
    compute = client.post("/jobs/compute/", {"limit": 1000, "stage_seconds": 0})
    browser_for(bob).post("/jobs/export/", {"rows": 5})

    jobs = list(Job.objects.filter(owner=alice))
    assert [(job.kind, job.params, job.title) for job in jobs] == [
        ("prime_report", {"limit": 1000, "stage_seconds": 0}, "Prime report below 1,000"),
        ("export_csv", {"rows": 300, "pace": 0}, "CSV export of 300 rows"),
    ]
    assert (export.url, compute.url) == (f"/jobs/{jobs[1].pk}/", f"/jobs/{jobs[0].pk}/")
    listed = page_states(client.get("/jobs/"))
    assert [state["id"] for state in listed] == [job.pk for job in jobs]
    assert all(tuple(state) == STATE_KEYS and state["url"] == f"/jobs/{state['id']}/" for state in listed)


def test_detail_page_and_json_state_carry_the_same_state(make_user: Any) -> None:
    """A job's page embeds the state its JSON endpoint returns; unknown jobs are 404."""
    alice = make_user("alice")
    job = Job.objects.create(owner=alice, kind="export_csv", title="t", status="running", done=5, total=20, percent=25)
    client = browser_for(alice)
    state = client.get(f"/jobs/{job.pk}/state/").json()
    assert (state["status"], state["percent"], state["done"], state["total"]) == ("running", 25, 5, 20)
    page = client.get(f"/jobs/{job.pk}/")
    found = re.search(rb'<script id="job-state" type="application/json">(.*?)</script>', page.content, re.S)
    assert json.loads(found.group(1))["version"] == state["version"]
    assert client.get("/jobs/999999/state/").status_code == 404


def test_cancel_of_an_ended_job_changes_nothing(make_user: Any) -> None:
    """Cancelling a job that already ended leaves its final state as it was."""
    alice = make_user("alice")
    job = Job.objects.create(owner=alice, kind="k", title="t", status="succeeded", finished=timezone.now())
    before = job_state(job)
    answer = browser_for(alice).post(f"/jobs/{job.pk}/cancel/", HTTP_ACCEPT="application/json")
    assert answer.json() == before


def test_retention_deletes_old_ended_jobs_and_their_files(make_user: Any, settings: Any, tmp_path: Any) -> None:
    """Jobs that ended more than HUB_JOB_RETENTION_DAYS ago go, files included; recent and live ones stay."""
    settings.HUB_JOB_FILES_DIR = str(tmp_path)
    alice = make_user("alice")
    old = timezone.now() - timedelta(days=settings.HUB_JOB_RETENTION_DAYS + 1)
    expired = Job.objects.create(owner=alice, kind="k", title="expired", status="succeeded", finished=old)
    expired.file.save("export.csv", ContentFile(b"a,b\n"))
    path = expired.file.path
    Job.objects.create(owner=alice, kind="k", title="recent", status="failed", finished=timezone.now())
    Job.objects.create(owner=alice, kind="k", title="running", status="running", created=old)

    assert delete_old_jobs() == 1
    assert sorted(Job.objects.values_list("title", flat=True)) == ["recent", "running"]
    assert not Path(path).exists()


def test_admin_lists_jobs_with_status_progress_and_owner_filters(make_user: Any) -> None:
    """Staff find jobs in the admin by status, progress and owner, and can cancel them there."""
    admin = make_user("root", is_staff=True, is_superuser=True)
    alice = make_user("alice")
    Job.objects.create(owner=alice, kind="k", title="halfway", status="running", percent=50)
    queued = Job.objects.create(owner=alice, kind="k", title="waiting")
    client = browser_for(admin)
    for query, shown in [("status__exact=running", b"halfway"), ("progress=50-74", b"halfway"),
                         (f"owner__id__exact={alice.pk}", b"waiting")]:  # fmt: skip
        response = client.get(f"/admin/jobs/job/?{query}")
        assert response.status_code == 200 and shown in response.content, query
    assert b"waiting" not in client.get("/admin/jobs/job/?progress=50-74").content
    response = client.post("/admin/jobs/job/", {"action": "cancel_jobs", "_selected_action": [queued.pk]})
    assert response.status_code == 302
    assert Job.objects.get(pk=queued.pk).status == "cancelled"


def test_settings_that_cannot_work_are_reported_at_start_up(settings: Any) -> None:
    """The jobs system check names a visibility timeout below the longest job, and a sweeper faster than the heartbeat."""
    from notifications.jobs.checks import check_job_settings

    assert check_job_settings() == []
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": settings.HUB_JOB_MAX_RUNTIME}
    settings.HUB_JOB_LOST_AFTER = settings.HUB_JOB_HEARTBEAT
    assert [error.id for error in check_job_settings()] == ["jobs.E003", "jobs.E004"]
    settings.HUB_JOB_CANCEL_POLL = 0
    assert [error.id for error in check_job_settings()] == ["jobs.E001"]


def test_cancel_service_is_the_one_the_views_use(make_user: Any) -> None:
    """cancel_job on a running job only asks: the job stays running with cancel_requested set."""
    job = Job.objects.create(owner=make_user("alice"), kind="k", title="t", status="running")
    state = job_state(services.cancel_job(job_id=job.pk))
    assert (state["status"], state["cancel_requested"], state["version"]) == ("running", True, 1)
