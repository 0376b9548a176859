"""Development settings: debug on, an insecure fixed secret, loopback hosts only."""

from .base import *  # noqa: F403
from .base import STATE_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

STATE_DIR.mkdir(parents=True, exist_ok=True)
# WhiteNoise serves from the app folders in development; an empty root keeps it quiet.
STATIC_ROOT = env.str("STATIC_ROOT", default=str(STATE_DIR / "static"))
(STATE_DIR / "static").mkdir(exist_ok=True)

# `manage.py runhub` creates the demo logins (alice, bob, admin) before serving.
HUB_RUNHUB_COMMANDS = ["seed_demo"]
