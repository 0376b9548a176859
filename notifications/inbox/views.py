"""The inbox page and its HTTP endpoints."""

from __future__ import annotations

import datetime
from typing import cast

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from notifications.conf import hub_settings
from notifications.inbox import services
from notifications.inbox.models import Notification

# The shortest time between two test notifications of one user.
TEST_INTERVAL = datetime.timedelta(seconds=2)


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """Render the user's notifications, newest first, a page at a time."""
    page = _page(request)
    return render(request, "inbox/inbox.html", {"page": page, "unread": services.unread_count(request.user)})


@require_GET
def state(request: HttpRequest) -> JsonResponse:
    """Return ``{"unread": n, "items": [...], "page": p, "pages": n}``: what the bell and a page of the inbox show.

    ``items`` are the payloads the pushes carry, newest first, of page ``?page=`` (the first
    by default). Pages call it to re-sync after their stream's history was lost. 401 for visitors.
    """
    if not request.user.is_authenticated:
        return _not_signed_in()
    page = _page(request)
    response = JsonResponse(
        {
            "unread": services.unread_count(request.user),
            "items": [services.as_payload(notification) for notification in page],
            "page": page.number,
            "pages": page.paginator.num_pages,
        }
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def unread(request: HttpRequest) -> JsonResponse:
    """Return ``{"unread": n}`` (401 for visitors)."""
    if not request.user.is_authenticated:
        return _not_signed_in()
    return JsonResponse({"unread": services.unread_count(request.user)})


@require_POST
def read(request: HttpRequest, pk: int) -> JsonResponse:
    """Mark one notification read; return ``{"unread": n}`` (404 if it is not the user's)."""
    if not request.user.is_authenticated:
        return _not_signed_in()
    if not Notification.objects.filter(user=request.user, pk=pk).exists():
        return JsonResponse({"error": "not_found", "message": "no such notification"}, status=404)
    return JsonResponse({"unread": services.mark_read(request.user, [pk])})


@require_POST
def read_all(request: HttpRequest) -> JsonResponse:
    """Mark all the user's notifications read; return ``{"unread": 0}``."""
    if not request.user.is_authenticated:
        return _not_signed_in()
    return JsonResponse({"unread": services.mark_all_read(request.user)})


@require_POST
def send_test(request: HttpRequest) -> HttpResponse:
    """Send the user a test notification; JSON ``{"id": n}`` (201) to scripts, else back to the inbox.

    401 for visitors; 429 ``too_many`` within ``TEST_INTERVAL`` of the previous one, so that a
    script looping on the button cannot fill the table.
    """
    if not request.user.is_authenticated:
        return _not_signed_in()
    since = timezone.now() - TEST_INTERVAL
    if Notification.objects.filter(user_id=cast(int, request.user.pk), data__test=True, created_at__gt=since).exists():
        message = "one test notification per %d seconds" % TEST_INTERVAL.total_seconds()
        return JsonResponse({"error": "too_many", "message": message}, status=429)
    notification = services.notify(
        request.user,
        "Test notification",
        body="Sent from your inbox at %s: it reached every open tab over the hub."
        % timezone.localtime().strftime("%H:%M:%S"),
        url=reverse("inbox:inbox"),
        level="success",
        data={"test": True},
    )
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"id": notification.pk}, status=201)
    return redirect("inbox:inbox")


def _page(request: HttpRequest) -> Page[Notification]:
    """Return the page of the user's notifications that ``?page=`` asks for (newest first)."""
    notifications = Notification.objects.filter(user_id=cast(int, request.user.pk))
    return Paginator(notifications, hub_settings.HUB_INBOX_PAGE_SIZE).get_page(request.GET.get("page"))


def _not_signed_in() -> JsonResponse:
    return JsonResponse({"error": "not_authenticated", "message": "log in to use the inbox"}, status=401)
