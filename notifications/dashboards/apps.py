"""App configuration of notifications.dashboards."""

from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """The dashboards feature: declares the built-in dashboards and wires metrics to model signals."""

    name = "notifications.dashboards"
    label = "dashboards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Declare the staff hub dashboard, connect the metric signals, register the checks."""
        from django.core import checks
        from django.db.models.signals import post_delete, post_save

        from notifications import periodic
        from notifications.conf import hub_settings
        from notifications.dashboards import checks as dashboard_checks
        from notifications.dashboards import hub, signals  # noqa: F401 (declares the hub dashboard)

        # One receiver for every model: a metric may be declared after this runs.
        post_save.connect(signals.model_changed, dispatch_uid="dashboards.metrics.post_save")
        post_delete.connect(signals.model_changed, dispatch_uid="dashboards.metrics.post_delete")
        periodic.every("dashboards-sample-hub", "notifications.dashboards.tasks.sample_hub",
                       lambda: hub_settings.HUB_DASHBOARD_HUB_EVERY, realtime=True)  # fmt: skip
        periodic.every("dashboards-refresh", "notifications.dashboards.tasks.refresh_dashboards",
                       lambda: hub_settings.HUB_DASHBOARD_REFRESH_EVERY, realtime=True)  # fmt: skip
        checks.register(dashboard_checks.check_dashboards)
