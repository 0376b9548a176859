"""The staff hub dashboard's figures: totals from the hub's metrics and rates between samples."""

from __future__ import annotations

import pytest

from notifications import publish
from notifications.dashboards import hub, state, store


@pytest.mark.django_db(transaction=True)
def test_rates_are_per_second_between_two_samples() -> None:
    """The first sample has no rates; the next shows published events per second since the first."""
    store.client().delete(store.key("hub", "previous"))
    first = hub.sample()
    for n in range(5):
        publish.to_topic("chat.hub-rates", "tick", n)
    second = hub.sample()

    assert first["published_per_s"] is None and first["delivered_per_s"] is None
    assert second["published"] >= first["published"] + 5
    assert second["published_per_s"] > 0
    assert state.read(name="hub")["values"]["published"] == second["published"]
