"""The pks of a user's Django groups, loaded once on connect and read back by the session and hooks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import ManyToManyField

__all__ = ["group_ids", "known_group_ids", "load_group_ids"]


def load_group_ids(users: Iterable[Any]) -> None:
    """Load the pks of each user's Django groups in one query, for :func:`known_group_ids`.

    One ``values_list`` on the membership table: no Group rows built, none of
    ``prefetch_related``'s machinery (half the cost per connect of a token crowd). A user
    model without a ``groups`` many-to-many (``PermissionsMixin``'s) loads no groups, or
    asks each user's own ``groups`` if it has another kind.
    """
    users = list(users)
    for user in users:
        user._hub_group_ids = []
    if not users:
        return
    try:
        field: Any = get_user_model()._meta.get_field("groups")
    except FieldDoesNotExist:
        return
    if not isinstance(field, ManyToManyField):
        for user in users:
            user._hub_group_ids = list(user.groups.values_list("pk", flat=True))
        return
    through: Any = field.remote_field.through  # the membership table, auto-created or the project's own
    owner = through._meta.get_field(field.m2m_field_name())
    member_of = through._meta.get_field(field.m2m_reverse_field_name()).attname
    by_key = {getattr(user, owner.target_field.attname): user for user in users}  # what the table points at
    rows = through._default_manager.filter(**{owner.attname + "__in": list(by_key)}).values_list(
        owner.attname, member_of
    )
    for key, group_id in rows:
        by_key[key]._hub_group_ids.append(group_id)


def known_group_ids(user: Any) -> list[int] | None:
    """Return the pks of ``user``'s Django groups if they were loaded with it (on connect), else None."""
    return getattr(user, "_hub_group_ids", None)


def group_ids(user: Any) -> list[int]:
    """Return the pks of ``user``'s Django groups: as loaded with it if they were, else from a query."""
    known = known_group_ids(user)
    return known if known is not None else list(user.groups.values_list("pk", flat=True))
