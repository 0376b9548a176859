"""HTTP endpoints of the announcements: the active ones for this browser, and dismissing one."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from notifications.announcements import events, selectors, services
from notifications.announcements.models import Announcement


@require_GET
def active(request: HttpRequest) -> JsonResponse:
    """Return ``{"announcements": [payload, ...]}``: live, for this user, not dismissed, most severe first.

    Pages call it after a reconnect to drop banners that ended while they were offline.
    """
    found = selectors.for_user(user=request.user)
    response = JsonResponse({"announcements": [events.payload(announcement) for announcement in found]})
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    """Dismiss announcement ``pk`` for the signed-in user (all their tabs); visitors keep it in the browser.

    JSON answer when the request accepts it, else a redirect to ``next``. 404 ``not_found``
    if it does not exist or is not for this user; 409 ``not_dismissible``.
    """
    announcement = Announcement.objects.filter(pk=pk).first()
    if announcement is None or not selectors.applies_to(announcement=announcement, user=request.user):
        return _answer(request, {"error": "not_found", "message": "no such announcement for you"}, status=404)
    if not announcement.dismissible:
        return _answer(request, {"error": "not_dismissible", "message": "this announcement cannot be dismissed"}, 409)
    if request.user.is_authenticated:
        services.dismiss(announcement=announcement, user=request.user)
        return _answer(request, {"id": announcement.pk, "dismissed": True, "remembered": "account"})
    # A visitor's dismissal lives in the browser's localStorage (banner_script.html).
    return _answer(request, {"id": announcement.pk, "dismissed": True, "remembered": "browser"})


def _answer(request: HttpRequest, data: dict, status: int = 200) -> HttpResponse:
    """Answer JSON to scripts; a plain form post (no JavaScript) goes back to its page."""
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(data, status=status)
    if status != 200:
        return HttpResponse(data["message"], status=status, content_type="text/plain")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return HttpResponseRedirect(target)
