"""``manage.py hub_token USERNAME``: print a hub token for scripts and non-browser clients."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications import tokens
from notifications.conf import hub_settings


class Command(BaseCommand):
    help = "Print a signed hub token for USERNAME (connect with ws://HOST/ws/?token=TOKEN)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user_model = get_user_model()
        # Every user model has USERNAME_FIELD; the stubs' AbstractBaseUser does not declare it.
        username_field = cast(str, user_model.USERNAME_FIELD)
        user = user_model._default_manager.filter(**{username_field: username}).first()
        if user is None or not user.is_active:
            raise CommandError("No active user %r: create it first (manage.py createsuperuser)." % username)
        self.stdout.write(tokens.mint(user))
        self.stderr.write("Valid for %d seconds (HUB_TOKEN_MAX_AGE)." % hub_settings.HUB_TOKEN_MAX_AGE)
