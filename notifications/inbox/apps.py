"""App configuration of notifications.inbox."""

from django.apps import AppConfig


class InboxConfig(AppConfig):
    """The inbox feature."""

    name = "notifications.inbox"
    label = "inbox"
    default_auto_field = "django.db.models.BigAutoField"
