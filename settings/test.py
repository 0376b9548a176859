"""Test settings: the local ones, a SQLite file that subprocesses can open, fast hashing."""

import os

from .base import STATE_DIR, env
from .local import *  # noqa: F403

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{STATE_DIR / 'test-main.sqlite3'}"),
}
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory, so that Daphne and Celery subprocesses see the same rows;
    # one per run, so that concurrent runs do not share it.
    DATABASES["default"]["TEST"]["NAME"] = str(STATE_DIR / f"test-{os.getpid()}.sqlite3")
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING["root"]["level"] = env.str("LOG_LEVEL", default="WARNING")  # type: ignore[index]  # noqa: F405

# The suite flushes the database under running servers: see notifications/tests/live_server.py.
MIDDLEWARE = [*MIDDLEWARE, "notifications.tests.live_server.forget_content_types"]  # noqa: F405
