"""The notifications app: wires topics, signals and system checks at start-up."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """The hub's Django app."""

    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Load every app's ``topics`` module and connect the logout signal."""
        from django.contrib.auth.signals import user_logged_out
        from django.core import checks
        from django.utils.module_loading import autodiscover_modules

        from notifications import signals, system_checks

        autodiscover_modules("topics")
        user_logged_out.connect(signals.close_hub_connections, dispatch_uid="notifications.logout")
        checks.register(system_checks.check_channel_layer)
