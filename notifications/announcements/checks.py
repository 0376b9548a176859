"""System checks of the announcements: settings and the apps they need."""

from __future__ import annotations

from typing import Any

from django.core import checks

from notifications.system_checks import positive_numbers, requires_apps


def check_schedule(app_configs: Any = None, **kwargs: Any) -> list[checks.Error]:
    """Refuse a scheduler interval that is not a positive number (announcements.E001) or a missing app (E002)."""
    errors = requires_apps("notifications.announcements", ["channels", "notifications"], "announcements.E002")
    return errors + positive_numbers(["HUB_ANNOUNCEMENTS_SCHEDULE_SECONDS"], "announcements.E001")
