"""System checks of the dashboards: bad settings and metrics on unknown models fail at start-up."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import Error

from notifications.dashboards import registry

_POSITIVE = ("HUB_DASHBOARD_INTERVAL", "HUB_DASHBOARD_POINTS", "HUB_DASHBOARD_HUB_EVERY", "HUB_DASHBOARD_REFRESH_EVERY")


def check_dashboards(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Check the HUB_DASHBOARD_* numbers and that every metric's models exist."""
    errors = []
    for name in _POSITIVE:
        value = getattr(settings, name, None)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            errors.append(Error("%s must be a positive number, not %r." % (name, value), id="dashboards.E001"))
    demo_rate = getattr(settings, "HUB_DASHBOARD_DEMO_RATE", None)
    if not isinstance(demo_rate, (int, float)) or demo_rate < 0:
        errors.append(Error("HUB_DASHBOARD_DEMO_RATE must be 0 or more, not %r." % (demo_rate,), id="dashboards.E001"))
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
