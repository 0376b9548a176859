"""``manage.py hub_token USERNAME``: print a hub token for scripts; ``--revoke`` kills the user's tokens."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from redis.exceptions import RedisError

from notifications import redis_client, tokens
from notifications.conf import hub_settings
from notifications.exceptions import HubUnavailable


class Command(BaseCommand):
    help = (
        "Print a signed hub token for USERNAME (clients send it as a websocket subprotocol, docs/protocol.md); "
        "with --revoke, revoke every token of USERNAME minted so far and close their connections."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--revoke", action="store_true", help="revoke USERNAME's tokens instead of minting one")

    def handle(self, *args: Any, username: str, revoke: bool, **options: Any) -> None:
        user_model = get_user_model()
        # Every user model has USERNAME_FIELD; the stubs' AbstractBaseUser does not declare it.
        username_field = cast(str, user_model.USERNAME_FIELD)
        user = user_model._default_manager.filter(**{username_field: username}).first()
        if revoke and user is not None:
            try:
                redis_client.check()
                tokens.revoke(user)
            except (RedisError, HubUnavailable) as error:
                raise CommandError("Nothing was revoked: %s" % error) from None
            self.stdout.write("Revoked every hub token of %s; their connections are closing (4001)." % username)
            return
        if user is None or not user.is_active:
            raise CommandError("No active user %r: create it first (manage.py createsuperuser)." % username)
        self.stdout.write(tokens.mint(user))
        self.stderr.write("Valid for %d seconds (HUB_TOKEN_MAX_AGE)." % hub_settings.HUB_TOKEN_MAX_AGE)
