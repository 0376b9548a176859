"""The notifications app: wires topics, signals, periodic tasks and system checks at start-up."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """The hub's core app."""

    name = "notifications"
    verbose_name = "Notification hub"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Load every app's ``topics`` module, connect the logout and beat signals, register the checks."""
        from celery.signals import beat_init
        from django.contrib.auth.signals import user_logged_out
        from django.core import checks
        from django.utils.module_loading import autodiscover_modules

        from notifications import periodic, signals, system_checks

        autodiscover_modules("topics")
        user_logged_out.connect(signals.close_hub_connections, dispatch_uid="notifications.logout")
        beat_init.connect(periodic.add_to_beat, dispatch_uid="notifications.periodic", weak=False)
        checks.register(system_checks.check_core)
