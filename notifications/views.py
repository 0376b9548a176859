"""HTTP endpoints of the hub."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from notifications import tokens
from notifications.conf import hub_settings


@never_cache
@require_http_methods(["GET", "POST"])
def token(request: HttpRequest) -> JsonResponse:
    """Return a hub token for the logged-in user (401 with a message for visitors)."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "not_authenticated", "message": "log in to get a hub token"}, status=401)
    return JsonResponse({"token": tokens.mint(request.user), "expires_in": hub_settings.HUB_TOKEN_MAX_AGE})
