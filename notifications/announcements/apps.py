"""App configuration of notifications.announcements."""

from django.apps import AppConfig


class AnnouncementsConfig(AppConfig):
    """The announcements feature: admin-posted banners pushed live to their audience."""

    name = "notifications.announcements"
    label = "announcements"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Give each new hub connection its announcements, schedule the scheduler, check the settings."""
        from django.core import checks

        from notifications import periodic, registry
        from notifications.announcements import hooks
        from notifications.announcements.checks import check_schedule
        from notifications.conf import hub_settings

        if hooks.active_announcements not in registry.connect_hooks():
            registry.on_connect(hooks.active_announcements)
        periodic.every("announcements-publish-due", "notifications.announcements.tasks.publish_due",
                       lambda: hub_settings.HUB_ANNOUNCEMENTS_SCHEDULE_SECONDS, realtime=True)  # fmt: skip
        checks.register(check_schedule)
