"""Live dashboards: state pushed to the browser the moment it changes, a few times a second at most.

    from notifications import dashboards

    dashboards.update("sales", orders_today=42)  # merge, push within HUB_DASHBOARD_INTERVAL

Declare dashboards with ``declare`` and queryset metrics with ``metric``; see docs/dashboards.md.
"""

from notifications.dashboards.exceptions import DashboardError, UnknownDashboard
from notifications.dashboards.registry import Dashboard, declare, declared, get, metric
from notifications.dashboards.state import update

__all__ = ["Dashboard", "DashboardError", "UnknownDashboard", "declare", "declared", "get", "metric", "update"]
