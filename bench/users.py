"""Signed-in users for the benchmarks: make ``bench-user-<i>`` users and print a hub token for each.

    DJANGO_SETTINGS_MODULE=settings.local python bench/users.py COUNT              # a JSON list of COUNT tokens
    DJANGO_SETTINGS_MODULE=settings.local python bench/users.py COUNT --sessions   # ... of session keys instead

Users are created once (bulk, unusable passwords) and reused by later runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    count = int(sys.argv[1])
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from notifications import tokens

    user_model = get_user_model()
    names = [f"bench-user-{i}" for i in range(count)]
    have = set(user_model.objects.filter(username__in=names).values_list("username", flat=True))
    unusable = make_password(None)
    user_model.objects.bulk_create(
        [user_model(username=name, password=unusable) for name in names if name not in have], batch_size=500
    )
    users = {u.username: u for u in user_model.objects.filter(username__in=names)}
    if "--sessions" in sys.argv:
        print(json.dumps(_sessions([users[name] for name in names])))
    else:
        print(json.dumps([tokens.mint(users[name]) for name in names]))


def _sessions(users: list) -> list[str]:
    """Return a new session key for each user, logged in as ``django.contrib.auth.login`` would store it."""
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    store, expires = SessionStore(), timezone.now() + timedelta(days=1)
    backend = "django.contrib.auth.backends.ModelBackend"  # what login() stores after a password check
    if backend not in settings.AUTHENTICATION_BACKENDS:
        raise SystemExit(f"bench/users.py --sessions needs {backend} in AUTHENTICATION_BACKENDS")
    rows = [
        Session(
            session_key=get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789"),
            session_data=store.encode(
                {
                    SESSION_KEY: str(user.pk),
                    BACKEND_SESSION_KEY: backend,
                    HASH_SESSION_KEY: user.get_session_auth_hash(),
                }
            ),
            expire_date=expires,
        )
        for user in users
    ]
    Session.objects.bulk_create(rows, batch_size=500)
    return [row.session_key for row in rows]


if __name__ == "__main__":
    main()
