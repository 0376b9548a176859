"""Dashboard state in Redis, and the coalescing that turns a burst of updates into a few pushes.

Every process (web workers, Celery workers, the shell) writes into one Redis hash per
dashboard, so the state is exact and the last write wins. The first write of a window
also sets ``pending`` (``SET NX PX interval``) and schedules one flush ``interval``
seconds later; writes during the window ride on that flush, which reads the state when
it runs. So a dashboard is pushed at most once per ``HUB_DASHBOARD_INTERVAL`` (at most
``ceil(T / interval) + 1`` pushes in T seconds), and its last push carries its last write:

- a write that finds ``pending`` set happened before that flush deletes ``pending``
  (compare-and-delete of its own token) or before it expired, so that flush reads it;
- flushes publish under a per-dashboard lock, so two flushes never publish out of order:
  a flush that finds the lock taken schedules one more flush instead.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, cast

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from redis.exceptions import RedisError

from notifications import publish
from notifications.conf import hub_settings
from notifications.dashboards import registry, store
from notifications.dashboards.exceptions import DashboardError
from notifications.exceptions import HubUnavailable

logger = logging.getLogger(__name__)

__all__ = ["flush", "mark_dirty", "prime", "read", "reset", "update"]

EVENT = "state"
_LOCK_MS = 30_000  # a flush that dies holding the lock blocks its dashboard this long at most
_DELETE_IF_MINE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class _Encoder(DjangoJSONEncoder):
    """JSON for dashboard values: Decimals become numbers (sums of money), dates ISO strings."""

    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            return float(o)
        return super().default(o)


def update(name: str, /, **values: Any) -> None:
    """Merge ``values`` into dashboard ``name``'s state and schedule a push, after commit.

    Raises UnknownDashboard or DashboardError at the call; HubUnavailable when Redis is down (outside a transaction).
    """
    registry.get(name)
    encoded = {field: _encode(name, field, value) for field, value in values.items()}

    def apply_update() -> None:
        _write(name, encoded=encoded, dirty=())

    _after_commit(apply_update)


def mark_dirty(*, name: str, metrics: Iterable[str]) -> None:
    """Have ``metrics`` of dashboard ``name`` recomputed and the dashboard pushed within one interval."""
    _write(name, encoded={}, dirty=tuple(metrics))


def prime(*, name: str) -> None:
    """Schedule a first computation of dashboard ``name`` if Redis holds no state for it yet."""
    try:
        empty = not store.client().exists(store.key(name, "state"))
    except RedisError as error:
        raise HubUnavailable("could not read dashboard %r: %s" % (name, error)) from error
    if empty:
        mark_dirty(name=name, metrics=registry.get(name).metrics)


def read(*, name: str) -> dict[str, Any]:
    """Return dashboard ``name``'s current state as pushed: ``{"dashboard", "values", "points", "at"}``."""
    client = store.client()
    # The client does not decode responses: the hash's fields are bytes.
    state = cast("dict[bytes, bytes]", client.hgetall(store.key(name, "state")))
    values = {field.decode(): json.loads(raw) for field, raw in state.items()}
    points = [json.loads(raw) for raw in client.lrange(store.key(name, "points"), 0, -1)]
    return {"dashboard": name, "values": values, "points": points, "at": int(time.time() * 1000)}


def reset(*, name: str) -> None:
    """Forget dashboard ``name``'s state and chart points; the next push starts afresh."""
    parts = ("state", "dirty", "points", "pending")
    store.client().delete(*(store.key(name, part) for part in parts))


def flush(*, name: str, token: str | None = None) -> dict[str, Any] | None:
    """Recompute the dirty metrics of dashboard ``name`` and push its whole state; return what was pushed.

    Returns None when another flush holds the dashboard (one more flush is then scheduled).
    ``token`` is the ``pending`` mark this flush was scheduled for. Raises HubUnavailable.
    """
    dashboard = registry.get(name)
    client = store.client()
    lock = uuid.uuid4().hex
    try:
        if not client.set(store.key(name, "lock"), lock, nx=True, px=_LOCK_MS):
            logger.info("Dashboard %r is being flushed elsewhere; flushing again in one interval", name)
            _schedule(name, None)
            return None
        try:
            if token is not None:
                # From here on, a write sets a new pending mark and schedules its own flush.
                _delete_if_mine(store.key(name, "pending"), token)
            _recompute(dashboard, _take_dirty(name))
            data = read(name=name)
            data["points"] = _add_point(dashboard, data)
            publish.to_topic(dashboard.topic, EVENT, data)
        finally:
            _delete_if_mine(store.key(name, "lock"), lock)
    except RedisError as error:
        raise HubUnavailable("could not flush dashboard %r: %s" % (name, error)) from error
    return data


def _encode(name: str, field: str, value: Any) -> str:
    if not registry.is_field_name(field):
        raise DashboardError("dashboard %r: %r is not a valid field name" % (name, field))
    try:
        return json.dumps(value, cls=_Encoder, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise DashboardError("dashboard %r: field %r is not JSON-serialisable: %s" % (name, field, error)) from error


def _after_commit(apply: Callable[[], None]) -> None:
    if transaction.get_connection().in_atomic_block:
        # A failure after commit cannot undo the commit: Django logs it at ERROR.
        transaction.on_commit(apply, robust=True)
    else:
        apply()


def _write(name: str, *, encoded: dict[str, str], dirty: tuple[str, ...]) -> None:
    token = uuid.uuid4().hex
    interval_ms = max(1, int(hub_settings.HUB_DASHBOARD_INTERVAL * 1000))
    try:
        with store.client().pipeline(transaction=True) as pipe:
            if encoded:
                # redis-py types ``mapping`` as Mapping[FieldT, ...]: its invariant key type refuses any dict[str, ...].
                pipe.hset(store.key(name, "state"), mapping=encoded)  # type: ignore[arg-type]
            if dirty:
                pipe.sadd(store.key(name, "dirty"), *dirty)
            pipe.set(store.key(name, "pending"), token, nx=True, px=interval_ms)
            first_of_window = pipe.execute()[-1]
    except RedisError as error:
        raise HubUnavailable("could not update dashboard %r: %s" % (name, error)) from error
    if first_of_window:
        try:
            _schedule(name, token)
        except HubUnavailable:
            # Nobody will flush this window: let the next write open a new one.
            _delete_if_mine(store.key(name, "pending"), token)
            raise


def _schedule(name: str, token: str | None) -> None:
    from kombu.exceptions import OperationalError

    from notifications.dashboards import tasks

    try:
        tasks.flush_dashboard.apply_async(
            args=[name, token], countdown=hub_settings.HUB_DASHBOARD_INTERVAL, queue=hub_settings.HUB_REALTIME_QUEUE
        )
    except OperationalError as error:
        raise HubUnavailable("could not schedule a push of dashboard %r: %s" % (name, error)) from error


def _delete_if_mine(key: str, token: str) -> None:
    store.client().eval(_DELETE_IF_MINE, 1, key, token)


def _take_dirty(name: str) -> list[str]:
    # Read and cleared in one step: a metric marked after this is recomputed by the next flush.
    with store.client().pipeline(transaction=True) as pipe:
        pipe.smembers(store.key(name, "dirty"))
        pipe.delete(store.key(name, "dirty"))
        members, _deleted = pipe.execute()
    return sorted(member.decode() for member in members)


def _recompute(dashboard: registry.Dashboard, names: list[str]) -> None:
    values: dict[str, str] = {}
    failed: list[str] = []
    for name in names:
        declared = dashboard.metrics.get(name)
        if declared is None:
            logger.warning("Dashboard %r has no metric %r any more; not recomputed", dashboard.name, name)
            continue
        try:
            values[name] = _encode(dashboard.name, name, declared.compute())
        except Exception:
            # A metric is application code: one that fails must not keep the others from the page.
            logger.exception("Metric %r of dashboard %r failed; it keeps its last value", name, dashboard.name)
            failed.append(name)
    with store.client().pipeline(transaction=True) as pipe:
        if values:
            # redis-py types ``mapping`` as Mapping[FieldT, ...]: its invariant key type refuses any dict[str, ...].
            pipe.hset(store.key(dashboard.name, "state"), mapping=values)  # type: ignore[arg-type]
        if failed:
            pipe.sadd(store.key(dashboard.name, "dirty"), *failed)  # tried again at the next flush
        pipe.execute()


def _add_point(dashboard: registry.Dashboard, data: dict[str, Any]) -> list[Any]:
    """Append ``[ms, value]`` of the chart field to the chart's points (one per push); return them all."""
    value = data["values"].get(dashboard.chart) if dashboard.chart else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return data["points"]
    keep = dashboard.points or hub_settings.HUB_DASHBOARD_POINTS
    key = store.key(dashboard.name, "points")
    with store.client().pipeline(transaction=True) as pipe:
        pipe.rpush(key, json.dumps([data["at"], value]))
        pipe.ltrim(key, -keep, -1)
        pipe.lrange(key, 0, -1)
        points = pipe.execute()[-1]
    return [json.loads(raw) for raw in points]
