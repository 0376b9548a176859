"""Declared dashboards, who may view them, and their queryset metrics.

A dashboard is declared once, in code (an app's ``AppConfig.ready()`` or a module it
imports)::

    declare("sales", title="Sales", permission="shop.view_sales",
            kpis={"orders_today": "Orders today"}, chart="orders_today")

    @metric("sales", "orders_today", models=["demo.Order"])
    def orders_today():
        return Order.objects.filter(created__date=today()).count()
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model

from notifications.dashboards.exceptions import UnknownDashboard

__all__ = [
    "Dashboard",
    "Metric",
    "can_view",
    "declare",
    "declared",
    "get",
    "is_field_name",
    "metric",
    "metrics_for_model",
    "topic_name",
    "visible_to",
]

# A dashboard name is one segment of its topic "dashboard.<name>" (see notifications.registry).
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_PERMISSION = re.compile(r"^[a-z_][a-z0-9_]*\.[A-Za-z0-9_]+$")

Compute = Callable[[], Any]


@dataclass(frozen=True)
class Metric:
    """A value of a dashboard recomputed by ``compute()`` when one of ``models`` changes."""

    dashboard: str
    name: str
    compute: Compute
    models: tuple[str, ...]


@dataclass(frozen=True)
class Dashboard:
    """A declared dashboard: who may view it and how its page shows its state."""

    name: str
    title: str
    permission: str | None = None
    staff: bool = False
    description: str = ""
    empty: str = ""
    kpis: tuple[tuple[str, str], ...] = ()
    chart: str | None = None
    points: int | None = None
    table: str | None = None
    columns: tuple[tuple[str, str], ...] = ()
    metrics: dict[str, Metric] = field(default_factory=dict, compare=False, repr=False)

    @property
    def topic(self) -> str:
        """The hub topic the dashboard's state is pushed on."""
        return topic_name(self.name)

    def allows(self, user: Any) -> bool:
        """Tell whether ``user`` may view this dashboard (its permission, and staff if it says so)."""
        if not (user.is_authenticated and user.is_active):
            return False
        if self.staff and not user.is_staff:
            return False
        return self.permission is None or user.has_perm(self.permission)


_dashboards: dict[str, Dashboard] = {}
_by_model: dict[str, dict[str, list[str]]] = {}  # model label -> {dashboard: [metric names]}


def declare(
    name: str,
    *,
    title: str,
    permission: str | None = None,
    staff: bool = False,
    description: str = "",
    empty: str = "",
    kpis: Mapping[str, str] | None = None,
    chart: str | None = None,
    points: int | None = None,
    table: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> Dashboard:
    """Declare dashboard ``name``; return it. Raise ImproperlyConfigured on a bad or repeated declaration.

    ``permission`` ("app_label.codename") and/or ``staff=True`` say who may view it; one is required.
    ``empty`` is what the page says while the table has no rows: how to get data.
    """
    if not _NAME.match(name):
        raise ImproperlyConfigured("Dashboard name %r must be 1-64 letters, digits, '_' or '-'." % name)
    if name in _dashboards:
        raise ImproperlyConfigured("Dashboard %r is declared twice." % name)
    if permission is None and not staff:
        raise ImproperlyConfigured("Dashboard %r needs a permission or staff=True." % name)
    if permission is not None and not _PERMISSION.match(permission):
        raise ImproperlyConfigured(
            "Dashboard %r: permission must be 'app_label.codename', not %r." % (name, permission)
        )
    if points is not None and points < 1:
        raise ImproperlyConfigured("Dashboard %r: points must be positive, not %r." % (name, points))
    kpis = dict(kpis or {})
    for field_name in [*kpis, chart, table]:
        if field_name is not None and not _FIELD.match(field_name):
            raise ImproperlyConfigured("Dashboard %r: %r is not a valid field name." % (name, field_name))
    dashboard = Dashboard(
        name=name,
        title=title,
        permission=permission,
        staff=staff,
        description=description,
        empty=empty,
        kpis=tuple(kpis.items()),
        chart=chart,
        points=points,
        table=table,
        columns=tuple((columns or {}).items()),
    )
    _dashboards[name] = dashboard
    return dashboard


def metric(
    dashboard: str, name: str, compute: Compute | None = None, *, models: Iterable[type[Model] | str] = ()
) -> Any:
    """Declare ``compute()`` as field ``name`` of ``dashboard``, recomputed after a change to ``models``.

    Usable as ``metric(dashboard, name, fn, models=[...])`` or as a decorator; returns ``compute``.
    ``models`` are model classes or "app_label.ModelName" labels.
    """

    def register(compute: Compute) -> Compute:
        declared_dashboard = _dashboards.get(dashboard)
        if declared_dashboard is None:
            raise ImproperlyConfigured("Metric %r: declare dashboard %r before its metrics." % (name, dashboard))
        if not _FIELD.match(name):
            raise ImproperlyConfigured("Metric %r of dashboard %r is not a valid field name." % (name, dashboard))
        if name in declared_dashboard.metrics:
            raise ImproperlyConfigured("Metric %r of dashboard %r is declared twice." % (name, dashboard))
        labels = tuple(_label(model) for model in models)
        declared_dashboard.metrics[name] = Metric(dashboard, name, compute, labels)
        for label in labels:
            _by_model.setdefault(label, {}).setdefault(dashboard, []).append(name)
        return compute

    return register if compute is None else register(compute)


def get(name: Any) -> Dashboard:
    """Return the dashboard declared as ``name``; raise UnknownDashboard if there is none."""
    dashboard = _dashboards.get(name) if isinstance(name, str) else None
    if dashboard is None:
        raise UnknownDashboard("no dashboard %r is declared" % (name,))
    return dashboard


def declared() -> list[Dashboard]:
    """Return every declared dashboard, in declaration order."""
    return list(_dashboards.values())


def visible_to(user: Any) -> list[Dashboard]:
    """Return the dashboards ``user`` may view, in declaration order."""
    return [dashboard for dashboard in _dashboards.values() if dashboard.allows(user)]


def can_view(user: Any, name: str) -> bool:
    """Tell whether dashboard ``name`` is declared and ``user`` may view it."""
    dashboard = _dashboards.get(name)
    return dashboard is not None and dashboard.allows(user)


def is_field_name(name: Any) -> bool:
    """Tell whether ``name`` may name a field of a dashboard's state (an identifier, at most 64 characters)."""
    return isinstance(name, str) and _FIELD.match(name) is not None


def metrics_for_model(label: str) -> dict[str, list[str]]:
    """Return ``{dashboard: [metric names]}`` to recompute when a row of model ``label`` changes."""
    return _by_model.get(label, {})


def topic_name(name: str) -> str:
    """Return the hub topic of dashboard ``name``."""
    return f"dashboard.{name}"


def _label(model: type[Model] | str) -> str:
    if isinstance(model, str):
        if model.count(".") != 1:
            raise ImproperlyConfigured("Metric model %r must be a model or 'app_label.ModelName'." % model)
        return model.lower()
    return model._meta.label_lower
