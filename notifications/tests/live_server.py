"""Middleware for the suite's live servers (settings.test): forget cached content types per request.

The suite flushes the database between tests while Daphne and Celery keep running, and a
flush recreates the content types under new ids. A process that cached the old ones (the
admin does, for its log entries) would then write rows naming ids that no longer exist.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest, HttpResponse


def forget_content_types(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """Clear ContentType's cache before each request."""

    def middleware(request: HttpRequest) -> HttpResponse:
        ContentType.objects.clear_cache()
        return get_response(request)

    return middleware
