"""Declaring dashboards and metrics: mistakes fail at start-up with the bad value named."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from notifications import dashboards
from notifications.dashboards import registry


def test_bad_declarations_are_refused() -> None:
    """A repeated name, a missing permission, a malformed permission or name raise ImproperlyConfigured."""
    with pytest.raises(ImproperlyConfigured, match="declared twice"):
        dashboards.declare("sales", title="Sales again", permission="demo.view_sales")
    with pytest.raises(ImproperlyConfigured, match="needs a permission"):
        dashboards.declare("open-to-all", title="Open")
    with pytest.raises(ImproperlyConfigured, match="'view_everything'"):
        dashboards.declare("odd", title="Odd", permission="view_everything")
    with pytest.raises(ImproperlyConfigured, match="'a.b'"):
        dashboards.declare("a.b", title="Dotted", staff=True)
    names = {dashboard.name for dashboard in dashboards.declared()}
    assert {"hub", "sales"} <= names and not names & {"open-to-all", "odd", "a.b"}


def test_bad_metrics_are_refused() -> None:
    """A metric of an undeclared dashboard, a repeated metric or a malformed model label raise."""
    with pytest.raises(ImproperlyConfigured, match="declare dashboard 'nowhere'"):
        dashboards.metric("nowhere", "orders", lambda: 0)
    with pytest.raises(ImproperlyConfigured, match="declared twice"):
        dashboards.metric("sales", "orders_today", lambda: 0)
    with pytest.raises(ImproperlyConfigured, match="'Order'"):
        dashboards.metric("sales", "orders_again", lambda: 0, models=["Order"])


def test_metrics_are_found_by_their_models() -> None:
    """Saving an Order recomputes the four sales metrics, and nothing else."""
    assert registry.metrics_for_model("demo.order") == {
        "sales": ["orders_today", "revenue_today", "average_basket", "latest_orders"]
    }
    assert registry.metrics_for_model("auth.user") == {}
