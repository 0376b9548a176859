"""App configuration of notifications.inbox."""

from django.apps import AppConfig


class InboxConfig(AppConfig):
    """The per-user notification inbox."""

    name = "notifications.inbox"
    label = "inbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Declare the inbox's client frames."""
        from notifications.inbox import frames  # noqa: F401
