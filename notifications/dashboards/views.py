"""The dashboards pages: the list of dashboards a user may view, one dashboard live, and its state as JSON."""

from __future__ import annotations

import logging

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from redis.exceptions import RedisError

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
        "state_url": reverse("dashboards:state", args=[dashboard.name]),
    }
    return render(request, "dashboards/detail.html", {"dashboard": dashboard, "config": config})


@require_GET
def state_json(request: HttpRequest, name: str) -> JsonResponse:
    """Return dashboard ``name``'s current state, the data its ``state`` events carry.

    Pages call it when their topic is reset. 404 ``not_found`` if undeclared, 401 for visitors,
    403 ``forbidden`` without its permission, 503 ``hub_unavailable`` when Redis cannot be read.
    """
    try:
        dashboard = registry.get(name)
    except UnknownDashboard:
        return _error("not_found", "no dashboard %r" % name, 404)
    if not request.user.is_authenticated:
        return _error("not_authenticated", "log in to see dashboards", 401)
    if not dashboard.allows(request.user):
        return _error("forbidden", "not allowed to view dashboard %r" % name, 403)
    try:
        state.prime(name=name)  # Redis lost the state too: have it computed; it comes as a push
    except HubUnavailable as error:
        logger.warning("Could not prime dashboard %r: %s", name, error)
    try:
        data = state.read(name=name)
    except RedisError as error:
        logger.warning("Could not read dashboard %r: %s", name, error)
        return _error("hub_unavailable", "the dashboard cannot be read now; try again", 503)
    response = JsonResponse(data)
    response["Cache-Control"] = "no-store"
    return response


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": code, "message": message}, status=status)
