"""App configuration of notifications.announcements."""

from django.apps import AppConfig


class AnnouncementsConfig(AppConfig):
    """The announcements feature: admin-posted banners pushed live to their audience."""

    name = "notifications.announcements"
    label = "announcements"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Give each new hub connection its announcements, and check the settings."""
        from django.core import checks

        from notifications import registry
        from notifications.announcements import hooks
        from notifications.announcements.checks import check_schedule

        if hooks.active_announcements not in registry.connect_hooks():
            registry.on_connect(hooks.active_announcements)
        checks.register(check_schedule)
