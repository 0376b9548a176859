"""HTTP endpoints of the hub."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from notifications import tokens
from notifications.conf import hub_settings
from notifications.exceptions import HubUnavailable, InvalidTopic
from notifications.history import recent


@never_cache
@require_http_methods(["GET", "POST"])
def token(request: HttpRequest) -> JsonResponse:
    """Return a hub token for the logged-in user (401 with a message for visitors)."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "not_authenticated", "message": "log in to get a hub token"}, status=401)
    return JsonResponse({"token": tokens.mint(request.user), "expires_in": hub_settings.HUB_TOKEN_MAX_AGE})


@never_cache
@require_GET
def history(request: HttpRequest) -> JsonResponse:
    """Return ``{"events": [...]}``: the latest events of ``?topic=`` at or before ``?until=``, oldest first.

    ``?limit=`` (1-100, default 50). The frames are those the socket sends; a page that has
    subscribed reads up to its ``subscribed.position``, and live events follow from there. 400
    ``invalid_topic``, 401 ``not_authenticated`` (visitors, with HUB_ALLOW_ANONYMOUS off), 403
    ``forbidden``, 503 ``hub_unavailable``.
    """
    if not request.user.is_authenticated and not hub_settings.HUB_ALLOW_ANONYMOUS:
        return JsonResponse({"error": "not_authenticated", "message": "log in to read topics"}, status=401)
    try:
        limit = int(request.GET.get("limit", 50))
    except ValueError:
        return JsonResponse({"error": "bad_request", "message": "limit must be a whole number"}, status=400)
    try:
        events = recent(request.GET.get("topic", ""), user=request.user, limit=limit, until=request.GET.get("until"))
    except InvalidTopic as error:
        return JsonResponse({"error": "invalid_topic", "message": str(error)}, status=400)
    except PermissionDenied as error:
        return JsonResponse({"error": "forbidden", "message": str(error)}, status=403)
    except HubUnavailable as error:
        return JsonResponse({"error": "hub_unavailable", "message": str(error)}, status=503)
    return JsonResponse({"events": events})
