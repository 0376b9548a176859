"""``/hub/healthz`` (the process answers) and ``/hub/readyz`` (its Redis and database answer, in time).

Load balancers and compose's health checks use them; neither needs a login.
"""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from notifications import redis_client
from notifications.exceptions import HubUnavailable

__all__ = ["healthz", "readyz"]

READY_TIMEOUT = 2.0  # seconds Redis may take to answer PING


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 while the process serves requests."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when Redis and the database answer; 503 naming the one that does not."""
    problems = {}
    try:
        redis_client.check(timeout=READY_TIMEOUT)
    except HubUnavailable as error:
        problems["redis"] = str(error)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        problems["database"] = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if problems:
        return JsonResponse({"status": "unavailable", "problems": problems}, status=503)
    return JsonResponse({"status": "ok"})
