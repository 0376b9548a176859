"""The dashboards pages: the list of dashboards a user may view, and one dashboard live."""

from __future__ import annotations

import logging

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from notifications.dashboards import registry, state
from notifications.dashboards.exceptions import UnknownDashboard
from notifications.exceptions import HubUnavailable

logger = logging.getLogger(__name__)


def index(request: HttpRequest) -> HttpResponse:
    """List the dashboards the user may view."""
    return render(request, "dashboards/index.html", {"dashboards": registry.visible_to(request.user)})


def detail(request: HttpRequest, name: str) -> HttpResponse:
    """Show dashboard ``name``; its state arrives over the page's hub socket. 404 if undeclared, 403 if not allowed."""
    try:
        dashboard = registry.get(name)
    except UnknownDashboard:
        raise Http404("No dashboard %r." % name) from None
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not dashboard.allows(request.user):
        # A page, not PermissionDenied: a refusal is an answer, not an error with a traceback in the log.
        return render(request, "dashboards/forbidden.html", {"dashboard": dashboard}, status=403)
    try:
        state.prime(name=name)
    except HubUnavailable as error:
        # The page still works: the socket shows the state once Redis is back.
        logger.warning("Could not prime dashboard %r: %s", name, error)
    config = {
        "name": dashboard.name,
        "topic": dashboard.topic,
        "kpis": dashboard.kpis,
        "chart": dashboard.chart,
        "table": dashboard.table,
        "columns": dashboard.columns,
    }
    return render(request, "dashboards/detail.html", {"dashboard": dashboard, "config": config})
