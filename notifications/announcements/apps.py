"""App configuration of notifications.announcements."""

from django.apps import AppConfig


class AnnouncementsConfig(AppConfig):
    """The announcements feature."""

    name = "notifications.announcements"
    label = "announcements"
    default_auto_field = "django.db.models.BigAutoField"
