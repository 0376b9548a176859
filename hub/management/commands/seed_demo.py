"""``manage.py seed_demo``: demo logins for a development machine (alice, bob, admin).

Passwords are random, printed once and kept in ``HUB_STATE_DIR/demo-users.txt``.
Refuses to run with DEBUG off, so a production database never gets known logins.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from notifications.conf import state_dir

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser, UserManager

logger = logging.getLogger(__name__)

# username -> (is_staff and is_superuser, groups, permissions as "app_label.codename")
_DEMO_USERS: dict[str, tuple[bool, tuple[str, ...], tuple[str, ...]]] = {
    "alice": (False, (), ("demo.view_sales",)),
    "bob": (False, ("editors",), ()),
    "admin": (True, (), ()),
}


class Command(BaseCommand):
    help = "Create the demo users alice, bob (in group editors) and admin if missing; DEBUG only."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo creates logins for a demo; it runs only with DEBUG on (settings.local).")
        passwords_file = state_dir() / "demo-users.txt"
        with transaction.atomic():
            created = _seed()
        names = ", ".join(_DEMO_USERS)
        if not created and passwords_file.exists():
            self.stdout.write("Demo users %s exist; their passwords are in %s." % (names, _shown(passwords_file)))
            return
        if not created:
            self.stdout.write(
                "Demo users %s exist, but %s is gone: set a password with `manage.py changepassword NAME`."
                % (names, _shown(passwords_file))
            )
            return
        _save(passwords_file, created)
        logins = ", ".join("%s / %s" % pair for pair in created.items())
        self.stdout.write(
            "Demo users (printed once, also saved in %s): %s" % (_shown(passwords_file), logins), self.style.SUCCESS
        )


def _seed() -> dict[str, str]:
    """Create the missing demo users, fix groups and permissions of all; return {new username: password}."""
    user_model = get_user_model()
    # The demo needs a user model like Django's User: groups, permissions and create_user();
    # the stubs type get_user_model() as AbstractBaseUser, which has none of them nor USERNAME_FIELD.
    username_field = cast(str, user_model.USERNAME_FIELD)
    manager = cast("UserManager[AbstractUser]", user_model._default_manager)
    created = {}
    for username, (is_admin, group_names, permission_names) in _DEMO_USERS.items():
        user = manager.filter(**{username_field: username}).first()
        if user is None:
            password = secrets.token_urlsafe(9)
            make = manager.create_superuser if is_admin else manager.create_user
            user = make(**{username_field: username, "password": password})
            created[username] = password
            logger.debug("created demo user %s", username)
        for name in group_names:
            user.groups.add(Group.objects.get_or_create(name=name)[0])
        for name in permission_names:
            user.user_permissions.add(_permission(name))
    return created


def _permission(name: str) -> Permission:
    """Return the Permission for ``"app_label.codename"``; raise CommandError if migrate has not made it."""
    app_label, codename = name.split(".", 1)
    try:
        return Permission.objects.get(content_type__app_label=app_label, codename=codename)
    except Permission.DoesNotExist:
        raise CommandError("Permission %r does not exist: run `manage.py migrate` first." % name) from None


def _save(path: Path, created: dict[str, str]) -> None:
    """Append the new logins to ``path``, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a") as out:
        out.writelines("%s / %s\n" % pair for pair in created.items())


def _shown(path: Path) -> str:
    """Return ``path`` relative to the project when it lies inside it, for shorter messages."""
    try:
        return str(path.relative_to(settings.BASE_DIR))
    except ValueError:
        return str(path)
