# The one image of the hub: web (Uvicorn), worker and beat (Celery) all run it; compose.yaml says how.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Requirements first, so that a code change does not reinstall them.
COPY requirements/ requirements/
RUN pip install -r requirements/production.txt

COPY . .

# collectstatic imports settings.production, which needs hosts (a dummy for this step only: the real
# ones come from compose.yaml at run time) and no secret: it loads without one, and the deploy checks
# of the CMD below refuse to serve without a strong one (notifications.E010).
ARG ALLOWED_HOSTS=localhost
RUN DJANGO_SETTINGS_MODULE=settings.production \
    ALLOWED_HOSTS="$ALLOWED_HOSTS" \
    python manage.py collectstatic --noinput

RUN useradd --create-home --uid 1000 hub \
    && mkdir -p /var/lib/hub/job-files && chown hub /var/lib/hub/job-files
USER hub

ENV DJANGO_SETTINGS_MODULE=settings.production
EXPOSE 8000
# As compose.yaml's web: the deploy checks (a weak secret stops here), then Uvicorn with the hub's bounds,
# trusting X-Forwarded-* only from FORWARDED_ALLOW_IPS (default the loopback; '*' is refused).
CMD ["sh", "-c", "python manage.py check --deploy && exec python -m notifications.servers uvicorn hub.asgi:application --host 0.0.0.0 --port 8000 --forwarded-allow-ips \"${FORWARDED_ALLOW_IPS:-127.0.0.1}\""]
