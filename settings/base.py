"""Settings shared by every environment; each knob is read from the environment.

Every variable is documented in README.md ("Settings"). Secrets have no default here:
``local`` supplies development values and ``production`` demands them.
"""

from pathlib import Path

import environ

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
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hub.urls"
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

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

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "notifications.layers.HubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": HUB_REDIS_PREFIX, "queue_size": HUB_QUEUE_SIZE},
    },
}

# The websocket hub (docs/protocol.md explains each one).
HUB_ALLOW_ANONYMOUS = env.bool("HUB_ALLOW_ANONYMOUS", default=True)
HUB_HEARTBEAT = env.int("HUB_HEARTBEAT", default=25)
HUB_MAX_FRAME_BYTES = env.int("HUB_MAX_FRAME_BYTES", default=64 * 1024)
HUB_MAX_EVENT_BYTES = env.int("HUB_MAX_EVENT_BYTES", default=32 * 1024)
HUB_MAX_SUBSCRIPTIONS = env.int("HUB_MAX_SUBSCRIPTIONS", default=50)
HUB_RATE_LIMIT = env.float("HUB_RATE_LIMIT", default=20.0)
HUB_RATE_BURST = env.int("HUB_RATE_BURST", default=40)
HUB_TOKEN_MAX_AGE = env.int("HUB_TOKEN_MAX_AGE", default=3600)
HUB_HISTORY_SIZE = env.int("HUB_HISTORY_SIZE", default=500)
HUB_HISTORY_TTL = env.int("HUB_HISTORY_TTL", default=3600)
# Per-pattern history sizes over the declared ones, e.g. "chat.{room}=200,dashboard.{name}=1".
HUB_TOPIC_HISTORY = env.dict("HUB_TOPIC_HISTORY", cast={"value": int}, default={})

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="hub")
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
    "loggers": {"daphne": {"level": "WARNING"}},
}
