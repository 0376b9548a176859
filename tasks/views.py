"""The jobs pages: my jobs, one job, its JSON state, starting the example jobs, cancel and download."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from tasks import services, topics
from tasks.examples import export_csv, prime_report
from tasks.forms import ComputeForm, ExportForm
from tasks.models import Job
from tasks.state import job_state

# How many of a user's jobs "my jobs" shows; older ones stay in the admin until retention.
LIST_SIZE = 50


@login_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    """Render "my jobs": the user's latest jobs with live progress, and the forms that start jobs."""
    return _list(request, ExportForm(), ComputeForm())


@login_required
@require_POST
def start_export(request: HttpRequest) -> HttpResponse:
    """Start a CSV export for the user and show its page; 400 with the form's errors if invalid."""
    form = ExportForm(request.POST)
    if not form.is_valid():
        return _list(request, form, ComputeForm(), status=400)
    rows, pace = form.cleaned_data["rows"], form.cleaned_data["pace"] or 0
    job = services.start_job(owner=request.user, task=export_csv, title="CSV export of %s rows" % f"{rows:,}",
                             params={"rows": rows, "pace": pace})  # fmt: skip
    return redirect("jobs:detail", job.pk)


@login_required
@require_POST
def start_compute(request: HttpRequest) -> HttpResponse:
    """Start a prime report for the user and show its page; 400 with the form's errors if invalid."""
    form = ComputeForm(request.POST)
    if not form.is_valid():
        return _list(request, ExportForm(), form, status=400)
    limit, seconds = form.cleaned_data["limit"], form.cleaned_data["stage_seconds"] or 0
    job = services.start_job(owner=request.user, task=prime_report, title="Prime report below %s" % f"{limit:,}",
                             params={"limit": limit, "stage_seconds": seconds})  # fmt: skip
    return redirect("jobs:detail", job.pk)


@login_required
@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Render one job's page (its owner or staff): the current state at once, then live from ``job.{id}``."""
    job = _visible_job(request, pk)
    context = {"job": job, "state": job_state(job), "topic": topics.job_topic(job.pk), "events": topics.EVENTS}
    return render(request, "jobs/detail.html", context)


@login_required
@require_GET
def job_state_json(request: HttpRequest, pk: int) -> JsonResponse:
    """Return the job's state, the same dict its events carry (its owner or staff; else 404)."""
    return JsonResponse(job_state(_visible_job(request, pk)))


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


def _visible_job(request: HttpRequest, pk: int) -> Job:
    # Someone else's job is "not found", not "forbidden": its existence is not disclosed.
    job = get_object_or_404(Job, pk=pk)
    if not job.visible_to(request.user):
        raise Http404("No such job.")
    return job


def _list(request: HttpRequest, export_form: Any, compute_form: Any, status: int = 200) -> HttpResponse:
    jobs = Job.objects.filter(owner=request.user)[:LIST_SIZE]
    context = {
        "states": [job_state(job) for job in jobs],
        "events": topics.EVENTS,
        "export_form": export_form,
        "compute_form": compute_form,
    }
    return render(request, "jobs/list.html", context, status=status)
