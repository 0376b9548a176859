"""System checks of the inbox: the apps it needs and its settings."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error

from notifications.system_checks import positive_numbers, requires_apps


def check_inbox(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Report a missing app (inbox.E002) or a HUB_INBOX_* number out of range (inbox.E001)."""
    errors = requires_apps("notifications.inbox", ["channels", "notifications"], "inbox.E002")
    return errors + positive_numbers(["HUB_INBOX_RETENTION_DAYS", "HUB_INBOX_PAGE_SIZE"], "inbox.E001")
