"""``manage.py demo_sales`` and the demo beat task create orders for the sales dashboard."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from hub.models import Order
from tasks import sales as tasks

pytestmark = pytest.mark.django_db


def test_demo_sales_creates_orders_at_the_rate_for_the_time() -> None:
    """--rate 100 --seconds 0.2 creates about 20 orders and says how many."""
    out = io.StringIO()
    call_command("demo_sales", rate=100, seconds=0.2, seed=1, stdout=out)
    created = Order.objects.count()
    assert 10 <= created <= 25
    assert out.getvalue().startswith(f"Created {created} demo orders")


def test_demo_sales_refuses_a_bad_rate() -> None:
    """A rate of zero is refused with the values named."""
    with pytest.raises(CommandError, match="--rate must be positive"):
        call_command("demo_sales", rate=0, seconds=1)


def test_demo_beat_task_creates_about_rate_orders() -> None:
    """The beat task creates the whole part of the rate, plus one with the fraction's probability."""
    assert tasks.demo_orders(rate=3) == 3
    assert 2 <= tasks.demo_orders(rate=2.5) <= 3
    assert Order.objects.count() >= 5
