"""Template tags of the inbox."""

from __future__ import annotations

from typing import Any

from django import template

from notifications.inbox import services

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context: Any) -> int | None:
    """Return the request user's unread count, or None for visitors."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return services.unread_count(user)
