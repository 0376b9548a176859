"""Signal receivers: a saved or deleted row marks the metrics that read its model, after commit."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from notifications.dashboards import registry, state


def model_changed(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """On post_save/post_delete: after commit, mark the metrics declared on ``sender`` dirty."""
    targets = registry.metrics_for_model(sender._meta.label_lower)
    for dashboard, names in targets.items():

        def mark(dashboard: str = dashboard, names: list[str] = names) -> None:
            state.mark_dirty(name=dashboard, metrics=names)

        # robust: a Redis failure after the commit is logged, and the refresh beat task repairs it.
        transaction.on_commit(mark, using=using, robust=True)
