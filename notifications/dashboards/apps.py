"""App configuration of notifications.dashboards."""

from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """The dashboards feature: declares the built-in dashboards and wires metrics to model signals."""

    name = "notifications.dashboards"
    label = "dashboards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Declare the sales and hub dashboards, connect the metric signals, register the checks."""
        from django.core import checks
        from django.db.models.signals import post_delete, post_save

        from notifications.dashboards import checks as dashboard_checks
        from notifications.dashboards import hub, sales, signals  # noqa: F401 (declare the dashboards)

        # One receiver for every model: a metric may be declared after this runs.
        post_save.connect(signals.model_changed, dispatch_uid="dashboards.metrics.post_save")
        post_delete.connect(signals.model_changed, dispatch_uid="dashboards.metrics.post_delete")
        checks.register(dashboard_checks.check_dashboards)
