"""Demo pages built on the hub: the home page, the chat rooms and the forms that start the example jobs."""

from __future__ import annotations

import logging
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from hub import sales as sales_dashboard
from hub.forms import ComputeForm, ExportForm
from hub.topics import CHAT_ROOMS, chat_topic
from notifications.dashboards import registry as dashboards
from notifications.dashboards import state as dashboard_state
from notifications.exceptions import HubUnavailable
from notifications.jobs import services
from notifications.jobs.models import Job
from notifications.jobs.state import job_state
from notifications.jobs.views import render_job_list
from tasks.examples import export_csv, prime_report

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    """Render the front door: a card per feature, each with a value that the hub keeps live."""
    user = request.user
    sales = None
    if dashboards.can_view(user, sales_dashboard.NAME):
        try:
            dashboard_state.prime(name=sales_dashboard.NAME)
        except HubUnavailable as error:
            logger.warning("Could not prime the sales dashboard for the home page: %s", error)
        sales = {"topic": dashboards.topic_name(sales_dashboard.NAME)}
    running = []
    if user.is_authenticated:
        unfinished = Job.objects.filter(owner_id=cast(int, user.pk)).exclude(status__in=Job.FINAL)
        running = [job_state(job) for job in unfinished.order_by("-pk")[:20]]
    config = {
        "chat_topic": chat_topic("lobby"),
        "sales": sales,
        "jobs": running,
        "jobs_url": reverse("jobs:list_state"),
    }
    return render(request, "home.html", {"config": config, "running": running, "sales": sales})


def favicon(request: HttpRequest) -> HttpResponse:
    """Redirect /favicon.ico, which browsers ask for on pages that name no icon (the admin's), to the site's icon."""
    return redirect(static("hub/favicon.svg"))


def chat_room(request: HttpRequest, room: str) -> HttpResponse:
    """Render a chat room: every page in the room sees each message (topic ``chat.{room}``)."""
    return render(request, "chat.html", {"room": room, "topic": chat_topic(room), "rooms": CHAT_ROOMS})


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
