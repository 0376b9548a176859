"""Signal receivers of the inbox, connected in ``InboxConfig.ready``."""

from __future__ import annotations

from typing import Any

from notifications.inbox import services
from notifications.inbox.models import Notification


def push_saved_notification(sender: type[Notification], instance: Notification, created: bool, **kwargs: Any) -> None:
    """After a notification is saved anywhere (notify, the admin, a task), push it after commit."""
    if kwargs.get("raw"):  # loaddata: fixtures are not news
        return
    services.push_saved(instance, created=created)
