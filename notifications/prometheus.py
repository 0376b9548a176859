"""``/hub/metrics``: the hub's figures, summed over every live server process, for Prometheus.

Open to staff, or to a scraper that sends ``Authorization: Bearer <HUB_METRICS_TOKEN>``.
docs/operations.md says what each metric means.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from notifications import metrics
from notifications.conf import hub_settings

__all__ = ["view"]


class _HubCollector:
    """Reads :func:`notifications.metrics.snapshot` at each scrape and turns it into metric families."""

    def collect(self) -> Iterator[Metric]:
        figures = metrics.snapshot()
        yield GaugeMetricFamily("hub_processes", "Hub server processes reporting.", value=figures["processes"])
        yield GaugeMetricFamily(
            "hub_connections", "Open hub connections (websocket and SSE).", value=figures["connections"]
        )
        yield GaugeMetricFamily(
            "hub_subscriptions", "Topic subscriptions of open connections.", value=figures["subscriptions"]
        )
        yield CounterMetricFamily(
            "hub_published", "Events published through the hub's API.", value=figures["published"]
        )
        yield CounterMetricFamily(
            "hub_delivered", "Event frames sent to clients, live and replayed.", value=figures["delivered"]
        )
        yield CounterMetricFamily(
            "hub_replayed", "Event frames sent from history (resumes, retained state).", value=figures["replayed"]
        )
        yield CounterMetricFamily(
            "hub_slow_client_closes", "Connections closed with 4008 for falling behind.", value=figures["slow_closes"]
        )
        dropped = CounterMetricFamily("hub_dropped", "Messages dropped by the channel layer.", labels=["reason"])
        dropped.add_metric(["queue_full"], figures["dropped"])
        yield dropped
        cumulative, buckets = 0, []
        for bound, count in zip((*metrics.LATENCY_BUCKETS, float("inf")), figures["latency_buckets"], strict=True):
            cumulative += count
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
        yield HistogramMetricFamily(
            "hub_delivery_latency_seconds",
            "Publish-to-delivery time of live events (the first delivery in each process; replays excluded).",
            buckets=buckets,
            sum_value=figures["latency_sum"],
        )


_registry = CollectorRegistry(auto_describe=False)
_registry.register(_HubCollector())


@never_cache
@require_GET
def view(request: HttpRequest) -> HttpResponse:
    """Return the metrics in Prometheus' text format; 401/403 with a message for others."""
    token = hub_settings.HUB_METRICS_TOKEN
    bearer = request.headers.get("Authorization", "")
    allowed = bool(token) and hmac.compare_digest(bearer.encode(), ("Bearer %s" % token).encode())
    if not allowed:
        user: Any = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return JsonResponse({"error": "not_authenticated", "message": "staff or a metrics token only"}, status=401)
        if not user.is_staff:
            return JsonResponse({"error": "forbidden", "message": "staff or a metrics token only"}, status=403)
    return HttpResponse(generate_latest(_registry), content_type=CONTENT_TYPE_LATEST)
