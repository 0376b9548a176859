"""System checks of the dashboards: bad settings and metrics on unknown models fail at start-up."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.checks import Error

from notifications.dashboards import registry
from notifications.system_checks import positive_numbers, requires_apps

_POSITIVE = ("HUB_DASHBOARD_INTERVAL", "HUB_DASHBOARD_POINTS", "HUB_DASHBOARD_HUB_EVERY", "HUB_DASHBOARD_REFRESH_EVERY")


def check_dashboards(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Check the HUB_DASHBOARD_* numbers and that every metric's models exist."""
    errors = requires_apps("notifications.dashboards", ["channels", "notifications"], "dashboards.E003")
    errors += positive_numbers(_POSITIVE, "dashboards.E001")
    for dashboard in registry.declared():
        for metric in dashboard.metrics.values():
            for label in metric.models:
                try:
                    apps.get_model(label)
                except LookupError:
                    errors.append(
                        Error(
                            "Metric %r of dashboard %r reads model %r, which is not installed."
                            % (metric.name, dashboard.name, label),
                            id="dashboards.E002",
                        )
                    )
    return errors
