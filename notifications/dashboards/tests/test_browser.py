"""The sales dashboard page in headless chromium, against a live Daphne (and a real Celery worker for orders).

Plain sync tests: Playwright's sync API cannot run inside pytest-asyncio's loop.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from hub import sales
from notifications import groups, publish, redis_client
from notifications.dashboards import state, store
from notifications.dashboards.tests.helpers import grant
from notifications.tests.browser import SocketRelay, log_in

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not importable").expect

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_kpi_changes_and_chart_gains_a_point_without_reload(
    orm_beside_playwright: None, make_user: Any, page: Page, live_hub: Any, celery_worker: Any
) -> None:
    """On an open sales dashboard, a new order changes Orders today, adds a chart point and a table row."""
    grant(make_user("carol"))
    state.reset(name="sales")  # a short chart, whatever earlier tests pushed
    log_in(page, live_hub.http_url, "carol")
    page.goto(f"{live_hub.http_url}/dashboards/sales/")
    expect(page.locator("#dashboard")).to_have_attribute("data-state", "subscribed")
    page.evaluate("window.notReloaded = true")
    orders_today = page.locator('[data-kpi="orders_today"]')
    points = page.locator("#chart circle")

    first = sales.create_demo_order()
    expect(orders_today).to_have_text("1")  # only a push computed after this order says 1
    before = points.count()
    second = sales.create_demo_order()

    expect(orders_today).to_have_text("2")
    expect(points).to_have_count(before + 1)
    revenue = str(float(first.amount + second.amount)).removesuffix(".0")
    expect(points.last).to_have_attribute("data-value", revenue)
    expect(page.locator("#table tbody tr")).to_have_count(2)
    expect(page.locator("#table tbody tr td").first).to_have_text(str(second.pk))
    assert page.evaluate("window.notReloaded") is True


def test_page_of_a_dashboard_the_user_may_not_view_is_refused(
    orm_beside_playwright: None, make_user: Any, page: Page, live_hub: Any
) -> None:
    """A user without the sales permission gets 403 on the page."""
    make_user("dave")
    log_in(page, live_hub.http_url, "dave")
    response = page.goto(f"{live_hub.http_url}/dashboards/sales/")
    assert response is not None and response.status == 403


def push_sales(**values: Any) -> None:
    """Set values of the sales dashboard and push its state, as a flush does (no Celery involved)."""
    store.client().hset(store.key("sales", "state"), mapping={k: json.dumps(v) for k, v in values.items()})
    publish.to_topic("dashboard.sales", state.EVENT, state.read(name="sales"))


def test_after_its_history_is_lost_the_page_reads_the_state_again(
    orm_beside_playwright: None, make_user: Any, page: Page, live_hub: Any
) -> None:
    """A push made while the socket was down is lost with the topic's history: the page reads the state instead."""
    grant(make_user("carol"))
    state.reset(name="sales")
    push_sales(orders_today=7)
    relay = SocketRelay(page)
    log_in(page, live_hub.http_url, "carol")
    page.goto(f"{live_hub.http_url}/dashboards/sales/")
    orders_today = page.locator('[data-kpi="orders_today"]')
    expect(orders_today).to_have_text("7")
    page.evaluate("window.notReloaded = true")
    reads: list[str] = []
    page.on("request", lambda request: "/dashboards/sales/state/" in request.url and reads.append(request.url))

    def while_away() -> None:
        push_sales(orders_today=8)
        # The topic's history and what the hub remembers of it go, as when Redis restarts empty.
        key = f"{redis_client.prefix()}:history:{groups.topic_group('dashboard.sales')}"
        redis_client.client().delete(key, f"{key}:meta")

    relay.drop(page, while_away)

    expect(orders_today).to_have_text("8")
    expect(page.locator("#dashboard")).to_have_attribute("data-state", "subscribed")
    assert page.evaluate("window.notReloaded") is True
    assert len(reads) == 1, reads
    state.reset(name="sales")
