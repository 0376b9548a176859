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

        if hooks.on_connect not in registry.connect_hooks():
            registry.on_connect(hooks.on_connect)
        self._watch_changes()
        periodic.every("announcements-publish-due", "notifications.announcements.tasks.publish_due",
                       lambda: hub_settings.HUB_ANNOUNCEMENTS_SCHEDULE_SECONDS, realtime=True)  # fmt: skip
        checks.register(check_schedule)

    def _watch_changes(self) -> None:
        """Date the hub processes' snapshots on every write that changes what a connect gets.

        Deletes of the chosen groups and users reach the through tables by cascade, without
        ``m2m_changed``; a flush (between tests) or a migration sends ``post_migrate``.
        """
        from django.db.models import Model, signals

        from notifications.announcements import snapshot
        from notifications.announcements.models import Announcement, AnnouncementDismissal

        models: list[type[Model]] = [
            Announcement,
            AnnouncementDismissal,
            Announcement.groups.through,
            Announcement.users.through,
        ]
        for model in models:
            for signal in (signals.post_save, signals.post_delete):
                signal.connect(snapshot.changed, sender=model, dispatch_uid=f"announcements-{model.__name__}")
        for through in (Announcement.groups.through, Announcement.users.through):
            signals.m2m_changed.connect(
                snapshot.changed, sender=through, dispatch_uid=f"announcements-m2m-{through.__name__}"
            )
        signals.post_migrate.connect(snapshot.changed, sender=self, dispatch_uid="announcements-migrate")
