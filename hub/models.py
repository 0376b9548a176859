"""The demo's data: the sales dashboard's orders and the permission to view that dashboard."""

from __future__ import annotations

import datetime
from typing import ClassVar, cast

from django.db import models
from django.utils import timezone


class OrderQuerySet(models.QuerySet["Order"]):
    """Queries the sales metrics use."""

    def today(self) -> OrderQuerySet:
        """Return the orders created since midnight (TIME_ZONE)."""
        midnight = datetime.datetime.combine(timezone.localdate(), datetime.time.min)
        return self.filter(created__gte=timezone.make_aware(midnight))


class Order(models.Model):
    """One demo order: who bought, for how much, when."""

    customer = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    created = models.DateTimeField(default=timezone.now, db_index=True)

    # The manager proxies the queryset's methods (today()); the cast lets mypy see them without the plugin.
    objects: ClassVar[OrderQuerySet] = cast(OrderQuerySet, OrderQuerySet.as_manager())

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return "Order %s: %s, %s" % (self.pk, self.customer, self.amount)


class DemoPermissions(models.Model):
    """Holds the demo's permissions; it has no table of its own."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_sales", "Can view the live sales dashboard")]
