"""Errors of the dashboards API; each is a ValueError raised at the call, before anything is stored."""

from __future__ import annotations


class DashboardError(ValueError):
    """A dashboard call got bad input: a malformed field name or a value that is not JSON."""


class UnknownDashboard(DashboardError):
    """No dashboard of that name is declared."""
