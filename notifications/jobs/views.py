"""The jobs pages: my jobs, one job, their JSON states, cancel and download.

A project starts its own jobs from its own views (``services.start_job``) and may show
its start forms on "my jobs" through :func:`render_job_list`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from notifications.jobs import services, topics
from notifications.jobs.models import Job
from notifications.jobs.state import job_state

# How many of a user's jobs "my jobs" shows; older ones stay in the admin until retention.
LIST_SIZE = 50


@login_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    """Render "my jobs": the user's latest jobs with live progress."""
    return render_job_list(request)


@login_required
@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Render one job's page (its owner or staff): the current state at once, then live from ``job.{id}``."""
    job = _visible_job(request, pk)
    context = {"job": job, "state": job_state(job), "topic": topics.job_topic(job.pk), "events": topics.EVENTS}
    return render(request, "jobs/detail.html", context)


@login_required
@require_GET
def job_list_state_json(request: HttpRequest) -> JsonResponse:
    """Return ``{"jobs": [state, ...]}``: the states "my jobs" shows, newest first, as their events carry them."""
    jobs = Job.objects.filter(owner_id=request.user.pk)[:LIST_SIZE]
    return _no_store(JsonResponse({"jobs": [job_state(job) for job in jobs]}))


@login_required
@require_GET
def job_state_json(request: HttpRequest, pk: int) -> JsonResponse:
    """Return the job's state, the same dict its events carry (its owner or staff; else 404)."""
    return _no_store(JsonResponse(job_state(_visible_job(request, pk))))


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel the job (its owner or staff); answer its state as JSON if asked, else show its page."""
    job = services.cancel_job(job_id=_visible_job(request, pk).pk)
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(job_state(job))
    return redirect("jobs:detail", job.pk)


@login_required
@require_GET
def download(request: HttpRequest, pk: int) -> FileResponse:
    """Send the file a job produced (its owner or staff); 404 until it exists."""
    job = _visible_job(request, pk)
    if job.status != Job.Status.SUCCEEDED or not job.file:
        raise Http404("This job has no file to download.")
    return FileResponse(job.file.open("rb"), as_attachment=True, filename="%s-%s.csv" % (job.kind, job.pk))


def _no_store(response: JsonResponse) -> JsonResponse:
    # Pages read these to re-sync after lost events: a cached answer would undo that.
    response["Cache-Control"] = "no-store"
    return response


def _visible_job(request: HttpRequest, pk: int) -> Job:
    # Someone else's job is "not found", not "forbidden": its existence is not disclosed.
    job = get_object_or_404(Job, pk=pk)
    if not job.visible_to(request.user):
        raise Http404("No such job.")
    return job


def render_job_list(
    request: HttpRequest,
    extra_context: dict[str, Any] | None = None,
    *,
    template: str = "jobs/list.html",
    status: int = 200,
) -> HttpResponse:
    """Render "my jobs" with ``template`` (one extending ``jobs/list.html`` may fill its ``start_jobs`` block)."""
    jobs = Job.objects.filter(owner_id=request.user.pk)[:LIST_SIZE]
    context = {"states": [job_state(job) for job in jobs], "events": topics.EVENTS, **(extra_context or {})}
    return render(request, template, context, status=status)
