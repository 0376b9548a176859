"""System checks of the announcements' settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


def check_schedule(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Refuse a scheduler interval that is not a positive number of seconds (announcements.E001)."""
    value = getattr(settings, "HUB_ANNOUNCEMENTS_SCHEDULE_SECONDS", None)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return []
    return [
        checks.Error(
            "HUB_ANNOUNCEMENTS_SCHEDULE_SECONDS must be a positive number of seconds, not %r." % (value,),
            hint="Set it in the environment, e.g. HUB_ANNOUNCEMENTS_SCHEDULE_SECONDS=5.",
            id="announcements.E001",
        )
    ]
