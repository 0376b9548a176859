"""The dashboards' hub topic (loaded by notifications' topic discovery)."""

from __future__ import annotations

from typing import Any

from notifications.dashboards import registry
from notifications.registry import topic


@topic("dashboard.{name}", history=1, retain=True)
def dashboard(user: Any, name: str) -> bool:
    """A declared dashboard, for users its own permission admits (staff only for staff dashboards)."""
    return registry.can_view(user, name)
