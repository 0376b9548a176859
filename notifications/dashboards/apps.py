"""App configuration of notifications.dashboards."""

from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """The dashboards feature."""

    name = "notifications.dashboards"
    label = "dashboards"
    default_auto_field = "django.db.models.BigAutoField"
