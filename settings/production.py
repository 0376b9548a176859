"""Production settings: HTTPS and its headers on by default; the secret and hosts come from the environment.

docs/security.md explains each protection and ``HUB_PLAIN_HTTP``, the one switch for a try without TLS.
``manage.py check --deploy`` refuses a missing or weak secret (notifications.E010).
"""

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import content_security_policy, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# No default: an empty value still loads, so that `manage.py check --deploy` names it (notifications.E010)
# instead of every request failing with a 500.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Pages allowed to open the websocket; unset: the hosts of ALLOWED_HOSTS (notifications/origin.py).
HUB_ALLOWED_ORIGINS = env.list("HUB_ALLOWED_ORIGINS", default=[]) or None

# HTTPS: redirect, HSTS for a year (subdomains included), cookies sent over HTTPS only.
# HUB_PLAIN_HTTP=true turns the three off for a try without TLS (never on a public address).
HUB_PLAIN_HTTP = env.bool("HUB_PLAIN_HTTP", default=False)
SECURE_SSL_REDIRECT = not HUB_PLAIN_HTTP
# Health checks come over plain HTTP from the container itself and the proxy: no redirect for them.
SECURE_REDIRECT_EXEMPT = [r"^hub/(healthz|readyz)$"]
SECURE_HSTS_SECONDS = 0 if HUB_PLAIN_HTTP else env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preloading is a promise to browsers that outlives this deployment: opt in (check --deploy warns W021).
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = not HUB_PLAIN_HTTP
CSRF_COOKIE_SECURE = not HUB_PLAIN_HTTP

# Whether a request came over HTTPS, and from which address, is what Uvicorn reads from
# X-Forwarded-Proto/-For, and only when the peer is one of FORWARDED_ALLOW_IPS (compose.yaml):
# SECURE_PROXY_SSL_HEADER stays unset, since Django cannot tell which peer sent the header.
if "*" in env.str("FORWARDED_ALLOW_IPS", default="127.0.0.1"):
    raise ImproperlyConfigured(
        "FORWARDED_ALLOW_IPS must list the addresses of your proxies, not '*', which would let any client "
        'claim HTTPS and any address (docs/security.md, "Forwarded headers").'
    )

_socket_hosts = [urlsplit(origin).netloc for origin in HUB_ALLOWED_ORIGINS] if HUB_ALLOWED_ORIGINS else ALLOWED_HOSTS
CONTENT_SECURITY_POLICY = content_security_policy(_socket_hosts, plain_http=HUB_PLAIN_HTTP)

WHITENOISE_USE_FINDERS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
