"""The dashboards pages: the index lists what the user may view; a dashboard page is for its viewers only."""

from __future__ import annotations

from typing import Any

import pytest

from notifications.dashboards.tests.helpers import grant

pytestmark = pytest.mark.django_db


def test_index_lists_only_the_dashboards_the_user_may_view(client: Any, django_user_model: Any) -> None:
    """A sales viewer sees Sales only; staff see Hub; a visitor is asked to log in."""
    assert b"Log in</a> to see your dashboards" in client.get("/dashboards/").content

    client.force_login(grant(django_user_model.objects.create_user("viewer")))
    page = client.get("/dashboards/").content.decode()
    assert 'href="/dashboards/sales/"' in page and 'href="/dashboards/hub/"' not in page

    client.force_login(django_user_model.objects.create_user("staffer", is_staff=True))
    page = client.get("/dashboards/").content.decode()
    assert 'href="/dashboards/hub/"' in page and 'href="/dashboards/sales/"' not in page


def test_dashboard_page_is_for_its_viewers(client: Any, django_user_model: Any) -> None:
    """Visitors are sent to log in, users without the permission get 403, unknown names 404."""
    response = client.get("/dashboards/sales/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")

    client.force_login(django_user_model.objects.create_user("nobody"))
    assert client.get("/dashboards/sales/").status_code == 403
    assert client.get("/dashboards/hub/").status_code == 403
    assert client.get("/dashboards/no-such-dashboard/").status_code == 404


def test_dashboard_page_shows_its_kpis_chart_and_table(client: Any, django_user_model: Any) -> None:
    """The sales page has a slot for each KPI, the chart and the table, and subscribes over window.hub."""
    client.force_login(grant(django_user_model.objects.create_user("viewer")))
    page = client.get("/dashboards/sales/").content.decode()
    for field in ("orders_today", "revenue_today", "average_basket"):
        assert f'data-kpi="{field}"' in page
    assert '<svg id="chart"' in page and '<table id="table"' in page
    assert "dashboards/dashboard.js" in page and '"topic": "dashboard.sales"' in page


def test_state_endpoint_answers_the_pushed_shape_to_viewers_only(client: Any, django_user_model: Any) -> None:
    """GET /dashboards/<name>/state/: the state as pushed for viewers; 401 visitors, 403 others, 404 unknown."""
    import json

    from notifications.dashboards import state, store

    state.reset(name="sales")
    store.client().hset(store.key("sales", "state"), mapping={"orders_today": json.dumps(7)})
    assert client.get("/dashboards/sales/state/").status_code == 401
    client.force_login(django_user_model.objects.create_user("nobody"))
    assert client.get("/dashboards/sales/state/").json()["error"] == "forbidden"
    client.force_login(grant(django_user_model.objects.create_user("viewer")))
    assert client.get("/dashboards/no-such-dashboard/state/").status_code == 404

    response = client.get("/dashboards/sales/state/")
    data = response.json()
    assert response["Cache-Control"] == "no-store"
    assert set(data) == {"dashboard", "values", "points", "at"}
    assert (data["dashboard"], data["values"], data["points"]) == ("sales", {"orders_today": 7}, [])
    state.reset(name="sales")
