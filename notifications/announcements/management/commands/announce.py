"""``manage.py announce``: post an announcement from a script (pushed at once if it is live)."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from notifications import redis_client
from notifications.announcements import services
from notifications.announcements.models import Announcement
from notifications.exceptions import HubUnavailable

_BASE_AUDIENCES = ("everyone", "authenticated", "staff")


class Command(BaseCommand):
    help = "Post an announcement to its audience (live now, or at --starts)."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the options; see docs/announcements.md."""
        parser.add_argument("--title", required=True)
        parser.add_argument("--body", default="")
        parser.add_argument("--markdown", action="store_true", help="Render the body as (sanitised) Markdown.")
        parser.add_argument("--level", choices=list(Announcement.Level.values), default=Announcement.Level.INFO)
        parser.add_argument(
            "--audience",
            action="append",
            metavar="AUDIENCE",
            help="everyone (default), authenticated, staff, group:NAME or user:USERNAME; repeat to add more.",
        )
        parser.add_argument("--starts", metavar="ISO", help="Start time, e.g. 2026-05-01T09:00 (default: now).")
        ends = parser.add_mutually_exclusive_group()
        ends.add_argument("--expires", metavar="ISO", help="Expiry time (default: never).")
        ends.add_argument(
            "--for", dest="minutes", type=float, metavar="MINUTES", help="Expire MINUTES after the start."
        )
        parser.add_argument("--not-dismissible", action="store_true", help="Users cannot close it.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Create the announcement; raise CommandError naming any bad value, or when the hub is unreachable."""
        try:
            redis_client.check()
        except HubUnavailable as error:
            raise CommandError("Nothing was posted: %s" % error) from None
        audience, groups, users = _audiences(options["audience"] or ["everyone"])
        starts = _when(options["starts"], "--starts") if options["starts"] else timezone.now()
        expires = _when(options["expires"], "--expires") if options["expires"] else None
        if options["minutes"] is not None:
            if options["minutes"] <= 0:
                raise CommandError("--for must be a positive number of minutes, not %r" % options["minutes"])
            expires = starts + datetime.timedelta(minutes=options["minutes"])
        try:
            announcement = services.create_announcement(
                title=options["title"],
                body=options["body"],
                markdown=options["markdown"],
                level=options["level"],
                audience=audience,
                groups=groups,
                users=users,
                starts_at=starts,
                expires_at=expires,
                dismissible=not options["not_dismissible"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(_messages(error))) from error
        state = announcement.state(timezone.now())
        if state == "live":
            self.stdout.write("Announcement %d is live and was pushed to its audience." % announcement.pk)
        else:
            self.stdout.write(
                "Announcement %d is %s (starts %s)." % (announcement.pk, state, announcement.starts_at.isoformat())
            )


def _audiences(values: list[str]) -> tuple[str, list[Group], list[Any]]:
    """Return the base audience, the groups and the users that ``--audience`` values name."""
    bases = [value for value in values if value in _BASE_AUDIENCES]
    if len(set(bases)) > 1:
        raise CommandError("give at most one of everyone, authenticated, staff, not %s" % ", ".join(sorted(set(bases))))
    groups, users = [], []
    for value in values:
        kind, _sep, name = value.partition(":")
        if value in _BASE_AUDIENCES:
            continue
        if kind == "group" and name:
            group = Group.objects.filter(name=name).first()
            if group is None:
                raise CommandError("no group named %r" % name)
            groups.append(group)
        elif kind == "user" and name:
            # Every user model has USERNAME_FIELD; the stubs' AbstractBaseUser does not declare it.
            username_field = cast(str, get_user_model().USERNAME_FIELD)
            user = get_user_model().objects.filter(**{username_field: name}).first()
            if user is None:
                raise CommandError("no user named %r" % name)
            users.append(user)
        else:
            raise CommandError(
                "bad --audience %r: use everyone, authenticated, staff, group:NAME or user:USERNAME" % value
            )
    base = bases[0] if bases else (Announcement.Audience.CHOSEN if groups or users else Announcement.Audience.EVERYONE)
    return base, groups, users


def _when(value: str, option: str) -> datetime.datetime:
    """Return the aware datetime that ``value`` names (naive: the current time zone)."""
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise CommandError("%s must be an ISO date and time such as 2026-05-01T09:00, not %r" % (option, value))
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _messages(error: ValidationError) -> list[str]:
    """Return the messages of ``error``, each prefixed by its field."""
    if hasattr(error, "message_dict"):
        return ["%s: %s" % (field, " ".join(texts)) for field, texts in error.message_dict.items()]
    return list(error.messages)
