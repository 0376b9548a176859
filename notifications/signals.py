"""Signal receivers connected in ``NotificationsConfig.ready``: logouts and changes of a user's rights.

A connection's rights are read when it connects and again whenever one of these says they
changed: a password, ``is_active``, ``is_staff`` or ``is_superuser`` saved, a user deleted,
a user's groups or permissions changed, a group's permissions changed. Each sends
``hub.rights`` (after the transaction commits) to the connections concerned, on every
server process; they re-check within a round trip (docs/protocol.md, "Live rights").
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction

from notifications import groups, publish
from notifications.exceptions import HubUnavailable

logger = logging.getLogger(__name__)

RIGHTS_FIELDS = ("password", "is_active", "is_staff", "is_superuser")


def close_hub_connections(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """On logout, close the hub connections that this browser session opened."""
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is None or not session_key:
        return
    _quietly(lambda: publish.close_session(user, session_key), "logged out", user.pk)


def remember_rights(sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any) -> None:
    """Before a user is saved: note whether a field that grants rights is about to change."""
    fields = [name for name in RIGHTS_FIELDS if hasattr(instance, name)]
    if raw or instance.pk is None or (update_fields is not None and not set(update_fields) & set(fields)):
        return  # a new user has no connection; a last_login update changes no right
    before = type(instance)._default_manager.filter(pk=instance.pk).values(*fields).first()
    if before is not None and any(before[name] != getattr(instance, name) for name in fields):
        instance._hub_rights_changed = True


def rights_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """After a user is saved with changed rights: its connections re-check, once committed."""
    if getattr(instance, "_hub_rights_changed", False):
        instance._hub_rights_changed = False
        _after_commit(_recheck_users, [instance.pk])


def user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """After a user is deleted: its connections close, once committed."""
    _after_commit(_recheck_users, [instance.pk])


def memberships_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any = None, **kwargs: Any
) -> None:
    """A user's groups or permissions changed (from either side): those users' connections re-check."""
    if action == "pre_clear" and reverse:
        # After the clear the members are gone from the table: note them now.
        instance._hub_cleared = _members(sender, instance, kwargs["model"])
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        users = [instance.pk]
    elif action == "post_clear":
        users = getattr(instance, "_hub_cleared", [])
    else:
        users = list(pk_set or ())
    _after_commit(_recheck_users, users)


def group_permissions_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any = None, **kwargs: Any
) -> None:
    """A group's permissions changed: every connection of its members re-checks."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    group_ids = list(pk_set or ()) if reverse else [instance.pk]
    _after_commit(_recheck_groups, group_ids)


def _members(through: Any, instance: Any, user_model: Any) -> list[int]:
    """Return the ids of the users linked to ``instance`` (a group or permission) in ``through``."""
    relations = [field for field in through._meta.get_fields() if field.is_relation]
    user_field = next(field.name for field in relations if field.related_model is user_model)
    other_field = next(field.name for field in relations if field.related_model is type(instance))
    return list(through.objects.filter(**{other_field: instance.pk}).values_list(user_field, flat=True))


def _recheck_users(user_ids: Iterable[int]) -> None:
    for user_id in user_ids:
        _quietly(functools.partial(publish.recheck_rights, user_id), "rights changed", user_id)


def _recheck_groups(group_ids: Iterable[int]) -> None:
    for group_id in group_ids:
        audience = groups.django_group_audience(group_id)
        _quietly(functools.partial(publish.recheck_audience, audience), "group rights changed", group_id)


def _after_commit(action: Callable[[list[int]], None], ids: list[int]) -> None:
    if ids:
        transaction.on_commit(lambda: action(ids), robust=True)


def _quietly(send: Callable[[], None], what: str, pk: Any) -> None:
    try:
        send()
    except HubUnavailable:
        # The change itself must not fail because Redis is down; connections re-check on their next reconnect.
        logger.warning("Could not tell the hub that %s (%s)", what, pk, exc_info=True)
