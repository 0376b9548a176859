"""Fixtures of the dashboards tests: users allowed (or not) to view dashboards, hub clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from notifications import tokens
from notifications.client import HubClient
from notifications.dashboards.tests.helpers import grant


@pytest.fixture
def viewer(make_user: Any) -> Any:
    """Return a committed user with the sales dashboard's permission (demo.view_sales)."""
    return grant(make_user("viewer"))


@pytest.fixture
def staff_user(make_user: Any) -> Any:
    """Return a committed staff user (no particular permission)."""
    return make_user("staffer", is_staff=True)


@pytest.fixture
def client_for(live_hub: Any) -> Callable[[Any], HubClient]:
    """Return a factory of unconnected hub clients, signed in as the given user (a visitor for None)."""

    def make(user: Any = None) -> HubClient:
        return HubClient(live_hub.ws_url, token=tokens.mint(user) if user else None, reconnect=False)

    return make
