"""App configuration of notifications.inbox."""

from django.apps import AppConfig


class InboxConfig(AppConfig):
    """The per-user notification inbox."""

    name = "notifications.inbox"
    label = "inbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Declare the inbox's client frames, push saved notifications, schedule the purge, register the checks."""
        from django.core import checks
        from django.db.models.signals import post_save

        from notifications import periodic
        from notifications.inbox import checks as inbox_checks
        from notifications.inbox import (
            frames,  # noqa: F401 (declares the client frames)
            receivers,
        )
        from notifications.inbox.models import Notification

        post_save.connect(receivers.push_saved_notification, sender=Notification, dispatch_uid="inbox.push_saved")

        periodic.every("inbox-purge-expired", "notifications.inbox.tasks.purge_expired_notifications", lambda: 3600.0)
        checks.register(inbox_checks.check_inbox)
