"""Signed-in users for the benchmarks: make ``bench-user-<i>`` users and print a hub token for each.

    DJANGO_SETTINGS_MODULE=settings.local python bench/users.py COUNT   # a JSON list of COUNT tokens

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
    print(json.dumps([tokens.mint(users[name]) for name in names]))


if __name__ == "__main__":
    main()
