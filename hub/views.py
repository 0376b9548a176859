"""Demo pages built on the hub: the home page, the chat rooms and the forms that start the example jobs."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from hub.forms import ComputeForm, ExportForm
from hub.topics import chat_topic
from notifications.jobs import services
from notifications.jobs.views import render_job_list
from tasks.examples import export_csv, prime_report


def home(request: HttpRequest) -> HttpResponse:
    """Render the home page, which links to the demos."""
    return render(request, "home.html")


def chat_room(request: HttpRequest, room: str) -> HttpResponse:
    """Render a chat room: every page in the room sees each message (topic ``chat.{room}``)."""
    return render(request, "chat.html", {"room": room, "topic": chat_topic(room)})


@login_required
@require_GET
def jobs_home(request: HttpRequest) -> HttpResponse:
    """Render "my jobs" with the forms that start the two example jobs."""
    return _jobs_page(request, ExportForm(), ComputeForm())


@login_required
@require_POST
def start_export(request: HttpRequest) -> HttpResponse:
    """Start a CSV export for the user and show its page; 400 with the form's errors if invalid."""
    form = ExportForm(request.POST)
    if not form.is_valid():
        return _jobs_page(request, form, ComputeForm(), status=400)
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
        return _jobs_page(request, ExportForm(), form, status=400)
    limit, seconds = form.cleaned_data["limit"], form.cleaned_data["stage_seconds"] or 0
    job = services.start_job(owner=request.user, task=prime_report, title="Prime report below %s" % f"{limit:,}",
                             params={"limit": limit, "stage_seconds": seconds})  # fmt: skip
    return redirect("jobs:detail", job.pk)


def _jobs_page(request: HttpRequest, export_form: Any, compute_form: Any, status: int = 200) -> HttpResponse:
    context = {"export_form": export_form, "compute_form": compute_form}
    return render_job_list(request, context, template="jobs/demo_list.html", status=status)
