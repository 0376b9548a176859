"""Settings shared by every environment; each knob is read from the environment.

Every variable is documented in README.md ("Settings"). Secrets have no default here:
``local`` supplies development values and ``production`` demands them.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent
# Runtime state of a development machine: SQLite file, embedded Redis data, demo logins.
STATE_DIR = Path(environ.Env().str("HUB_STATE_DIR", default=str(BASE_DIR / ".hub")))

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    # Content-Security-Policy (django-csp) and login throttling (django-axes): docs/security.md.
    "csp",
    "axes",
    # The demo's forms in Bootstrap 5's markup.
    "crispy_forms",
    "crispy_bootstrap5",
    "notifications",
    "notifications.inbox",
    "notifications.announcements",
    "notifications.dashboards",
    "notifications.jobs",
    # The demo: chat topic, sales dashboard and its orders, demo users (hub/apps.py).
    "hub",
]

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so that static files (the hub's shared-worker script among them) carry the policy too.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hub.urls"
# The hub serves websockets at /ws/ (notifications.asgi.websocket_app) beside Django.
ASGI_APPLICATION = "hub.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{STATE_DIR / 'db.sqlite3'}"),
}
# Keep connections for a minute: the hub's connect path reads users and announcements from a
# thread whose connection Django would otherwise open and close per call (docs/performance.md).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from one
# address, that pair is refused (429, even with the right password) for AXES_COOLOFF_MINUTES.
# Axes' backend comes first and needs authenticate(request, ...), which the login views pass.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15.0))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# Headers every environment sends (production adds HTTPS: settings/production.py, docs/security.md).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"


def content_security_policy(hosts: list[str], *, plain_http: bool) -> dict[str, Any]:
    """Return django-csp's CONTENT_SECURITY_POLICY: this site only, no inline script, sockets to ``hosts``.

    ``'self'`` covers the site's own ws:/wss: in current browsers (Chrome 71, Safari 16); the hosts'
    wss: (ws: too with ``plain_http``) are listed for older ones. Inline styles stay allowed: the
    feature templates still carry <style> blocks (docs/security.md, "Content-Security-Policy").
    """
    sockets = []
    for host in hosts:
        if not host or "*" in host or "[" in host:  # CSP has no syntax for IPv6 literals; 'self' covers them
            continue
        name = "*" + host if host.startswith(".") else host
        sockets += ["wss://" + name] + (["ws://" + name] if plain_http else [])
    return {
        "DIRECTIVES": {
            "default-src": [SELF],
            "script-src": [SELF],
            "style-src": [SELF, UNSAFE_INLINE],
            # Bootstrap draws its small icons (menu toggler, select arrows) as data: SVG images.
            "img-src": [SELF, "data:"],
            "connect-src": [SELF, *sockets],
            "object-src": [NONE],
            "base-uri": [SELF],
            "form-action": [SELF],
            "frame-ancestors": [NONE],
        },
    }


# Development pages pass it too: 'self' covers the dev server's websocket.
CONTENT_SECURITY_POLICY = content_security_policy([], plain_http=True)

STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
WHITENOISE_USE_FINDERS = True

# One Redis feeds the channel layer, the event history, Celery's broker and its results.
# Unset, it is the embedded Redis that `manage.py runhub` started, if one is running.
_EMBEDDED_REDIS_FILE = STATE_DIR / "redis.url"
REDIS_URL = env.str("REDIS_URL", default="") or (
    _EMBEDDED_REDIS_FILE.read_text().strip() if _EMBEDDED_REDIS_FILE.exists() else "redis://127.0.0.1:6379/0"
)

# Prefix of every Redis key and pub/sub channel the hub uses, so that several hubs
# (or a test run) can share one Redis.
HUB_REDIS_PREFIX = env.str("HUB_REDIS_PREFIX", default="hub")
# Messages a connection may have waiting before it is closed as too slow (4008).
HUB_QUEUE_SIZE = env.int("HUB_QUEUE_SIZE", default=1000)
HUB_GC_THRESHOLD = env.int("HUB_GC_THRESHOLD", default=50_000)

# Redis Sentinel (docs/operations.md): REDIS_SENTINELS="host:port,host:port,host:port" and the
# monitored master's name make the hub follow a failover; REDIS_URL is then not used by the hub.
REDIS_SENTINELS = env.list("REDIS_SENTINELS", default=[])
REDIS_SENTINEL_MASTER = env.str("REDIS_SENTINEL_MASTER", default="mymaster")
_HUB_REDIS: str | dict[str, Any] = REDIS_URL
if REDIS_SENTINELS:
    _HUB_REDIS = {
        "sentinels": [(host, int(port)) for host, _, port in (entry.rpartition(":") for entry in REDIS_SENTINELS)],
        "master_name": REDIS_SENTINEL_MASTER,
        "sentinel_kwargs": {"socket_timeout": 2, "socket_connect_timeout": 2},
        "socket_timeout": 5,
        "socket_connect_timeout": 2,
    }

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "notifications.layers.HubChannelLayer",
        "CONFIG": {"hosts": [_HUB_REDIS], "prefix": HUB_REDIS_PREFIX, "queue_size": HUB_QUEUE_SIZE},
    },
}

# The hub's settings (notifications/conf.py has every default; docs/settings.md explains each),
# read from the environment here so that compose and CI can set them.
HUB_STATE_DIR = STATE_DIR
HUB_CELERY_APP = "workers"
HUB_ALLOW_ANONYMOUS = env.bool("HUB_ALLOW_ANONYMOUS", default=True)
HUB_HEARTBEAT = env.int("HUB_HEARTBEAT", default=25)
HUB_MAX_FRAME_BYTES = env.int("HUB_MAX_FRAME_BYTES", default=64 * 1024)
HUB_MAX_EVENT_BYTES = env.int("HUB_MAX_EVENT_BYTES", default=32 * 1024)
HUB_MAX_SUBSCRIPTIONS = env.int("HUB_MAX_SUBSCRIPTIONS", default=50)
HUB_RATE_LIMIT = env.float("HUB_RATE_LIMIT", default=20.0)
HUB_RATE_BURST = env.int("HUB_RATE_BURST", default=40)
HUB_REALTIME_QUEUE = env.str("HUB_REALTIME_QUEUE", default="hub-realtime")
HUB_PRESENCE_TIMEOUT = env.float("HUB_PRESENCE_TIMEOUT", default=30)
HUB_MAX_CONNECTIONS_PER_ADDRESS = env.int("HUB_MAX_CONNECTIONS_PER_ADDRESS", default=100)
HUB_PUBLISH_RATE = env.float("HUB_PUBLISH_RATE", default=5.0)
HUB_PUBLISH_BURST = env.int("HUB_PUBLISH_BURST", default=20)
HUB_EMBEDDED_REDIS_MAXMEMORY = env.str("HUB_EMBEDDED_REDIS_MAXMEMORY", default="256mb")
HUB_TOKEN_MAX_AGE = env.int("HUB_TOKEN_MAX_AGE", default=3600)
HUB_WRITE_DELAY = env.float("HUB_WRITE_DELAY", default=0.0)
HUB_WEBSOCKET_COMPRESSION = env.bool("HUB_WEBSOCKET_COMPRESSION", default=False)
HUB_HISTORY_SIZE = env.int("HUB_HISTORY_SIZE", default=500)
HUB_HISTORY_TTL = env.int("HUB_HISTORY_TTL", default=3600)
# Per-pattern history sizes over the declared ones, e.g. "chat.{room}=200,dashboard.{name}=1".
HUB_TOPIC_HISTORY = env.dict("HUB_TOPIC_HISTORY", cast={"value": int}, default={})

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="hub")
# The project's own pushes go with the hub's realtime work, never behind long jobs.
CELERY_TASK_ROUTES = {"tasks.publishing.*": {"queue": HUB_REALTIME_QUEUE}}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # axes.apps says "BEGIN" at every start; lockouts are logged by axes' handlers at WARNING.
    "loggers": {"daphne": {"level": "WARNING"}, "axes.apps": {"level": "WARNING"}},
}

HUB_INBOX_RETENTION_DAYS = env.int("HUB_INBOX_RETENTION_DAYS", default=90)
HUB_INBOX_PAGE_SIZE = env.int("HUB_INBOX_PAGE_SIZE", default=20)

HUB_JOB_PROGRESS_INTERVAL = env.float("HUB_JOB_PROGRESS_INTERVAL", default=0.25)
HUB_JOB_CANCEL_POLL = env.float("HUB_JOB_CANCEL_POLL", default=0.5)
HUB_JOB_HEARTBEAT = env.float("HUB_JOB_HEARTBEAT", default=10.0)
HUB_JOB_LOST_AFTER = env.float("HUB_JOB_LOST_AFTER", default=60.0)
HUB_JOB_SWEEP_INTERVAL = env.float("HUB_JOB_SWEEP_INTERVAL", default=30.0)
HUB_JOB_MAX_RUNTIME = env.int("HUB_JOB_MAX_RUNTIME", default=3600)
HUB_JOB_RETENTION_DAYS = env.int("HUB_JOB_RETENTION_DAYS", default=30)
HUB_JOB_FILES_DIR = env.str("HUB_JOB_FILES_DIR", default=str(STATE_DIR / "job-files"))
# Redis hands an unacknowledged message (acks_late) to another worker after the visibility
# timeout: keep it above the longest job's hard limit (HUB_JOB_MAX_RUNTIME + 30 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": HUB_JOB_MAX_RUNTIME + 600}

HUB_ANNOUNCEMENTS_SCHEDULE_SECONDS = env.float("HUB_ANNOUNCEMENTS_SCHEDULE_SECONDS", default=5.0)

HUB_DASHBOARD_INTERVAL = env.float("HUB_DASHBOARD_INTERVAL", default=0.5)
HUB_DASHBOARD_POINTS = env.int("HUB_DASHBOARD_POINTS", default=60)
HUB_DASHBOARD_HUB_EVERY = env.float("HUB_DASHBOARD_HUB_EVERY", default=2.0)
HUB_DASHBOARD_REFRESH_EVERY = env.float("HUB_DASHBOARD_REFRESH_EVERY", default=60.0)

# The hub's apps schedule their own periodic tasks (notifications/periodic.py); this is the demo's.
# Demo orders created per second for the sales dashboard; 0 (default) creates none.
HUB_DASHBOARD_DEMO_RATE = env.float("HUB_DASHBOARD_DEMO_RATE", default=0.0)
CELERY_BEAT_SCHEDULE = {}
if HUB_DASHBOARD_DEMO_RATE > 0:
    CELERY_BEAT_SCHEDULE["demo-orders"] = {
        "task": "tasks.sales.demo_orders",
        "schedule": 1.0,
        "options": {"expires": 1.0},
    }
