"""The demo sales dashboard: KPIs of today's orders, a revenue chart, the latest orders.

Its metrics are recomputed after every committed change to an Order (coalesced), and by
the refresh beat task (so "today" rolls over at midnight).
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Sum

from hub.models import Order
from notifications.dashboards import declare, metric

__all__ = ["create_demo_order"]

NAME = "sales"
LATEST = 10
_CUSTOMERS = ("Ada", "Grace", "Linus", "Guido", "Barbara", "Ken", "Margaret", "Dennis", "Radia", "Tim")

declare(
    NAME,
    title="Sales",
    permission="demo.view_sales",
    description="Today's orders, updated the moment one is saved.",
    empty="No orders yet. Add one in the admin (Demo › Orders), or run "
    "python manage.py demo_sales for a stream of them, and watch this page move.",
    kpis={"orders_today": "Orders today", "revenue_today": "Revenue today", "average_basket": "Average basket"},
    chart="revenue_today",
    table="latest_orders",
    columns={"id": "Order", "customer": "Customer", "amount": "Amount", "created": "Time"},
)


@metric(NAME, "orders_today", models=[Order])
def orders_today() -> int:
    """Orders created since midnight."""
    return Order.objects.today().count()


@metric(NAME, "revenue_today", models=[Order])
def revenue_today() -> float:
    """Sum of today's order amounts."""
    return float(Order.objects.today().aggregate(total=Sum("amount"))["total"] or 0)


@metric(NAME, "average_basket", models=[Order])
def average_basket() -> float | None:
    """Mean amount of today's orders (None before the first)."""
    mean = Order.objects.today().aggregate(mean=Avg("amount"))["mean"]
    return None if mean is None else round(float(mean), 2)


@metric(NAME, "latest_orders", models=[Order])
def latest_orders() -> list[dict[str, Any]]:
    """The newest orders, newest first, for the table."""
    return [dict(row) for row in Order.objects.order_by("-id").values("id", "customer", "amount", "created")[:LATEST]]


def create_demo_order(*, rng: random.Random | None = None) -> Order:
    """Create one random demo order and return it (the sales dashboard follows after commit)."""
    rng = rng or random.Random()
    amount = Decimal(rng.randint(500, 20_000)) / 100
    return Order.objects.create(customer=rng.choice(_CUSTOMERS), amount=amount)
