# check=skip=SecretsUsedInArgOrEnv
# The one image of the hub: web (Daphne), worker and beat (Celery) all run it; compose.yaml says how.
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

# collectstatic imports settings.production, which refuses to load without a secret and hosts.
# These dummies exist only for this step (hence the check skipped on line 1): they are not in
# the image's environment, and the real values come from compose.yaml at run time.
ARG DJANGO_SECRET_KEY=collectstatic-only-not-a-secret
ARG ALLOWED_HOSTS=localhost
RUN DJANGO_SETTINGS_MODULE=settings.production \
    DJANGO_SECRET_KEY="$DJANGO_SECRET_KEY" \
    ALLOWED_HOSTS="$ALLOWED_HOSTS" \
    python manage.py collectstatic --noinput

RUN useradd --create-home --uid 1000 hub \
    && mkdir -p /var/lib/hub/job-files && chown hub /var/lib/hub/job-files
USER hub

ENV DJANGO_SETTINGS_MODULE=settings.production
EXPOSE 8000
CMD ["uvicorn", "hub.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--ws", "websockets-sansio", "--lifespan", "off"]
