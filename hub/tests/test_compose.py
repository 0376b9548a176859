"""compose.yaml and the Dockerfile, checked without Docker: every command names real code and services."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from celery import Celery
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
IMAGE_SERVICES = sorted(name for name, service in SERVICES.items() if "build" in service)


def _steps(command: str | list[str]) -> list[list[str]]:
    """Split a compose command into the argv of each program it runs (``sh -c "a && exec b"`` gives two)."""
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    if argv[:2] != ["sh", "-c"]:
        return [argv]
    steps = [shlex.split(part) for part in argv[2].split("&&")]
    return [step[1:] if step[0] == "exec" else step for step in steps]


def _check_program(argv: list[str]) -> None:
    """Fail unless ``argv`` runs the hub's servers, Uvicorn, Daphne, Celery or manage.py on code of this project."""
    if argv[:2] == ["python", "-m"]:
        argv = argv[2:]
    if argv[0] == "notifications.servers":
        # Uvicorn with the hub's bounds: websockets-sansio, frames over HUB_MAX_FRAME_BYTES refused
        # from their header (--ws-max-size), slow handshakes dropped (notifications/tests/test_server_bounds.py).
        assert importlib.util.find_spec("notifications.servers") is not None
        assert argv[1] == "uvicorn", "the slow-client bound needs Uvicorn's backpressure"
        module_name, _, attribute = argv[2].partition(":")
        assert hasattr(importlib.import_module(module_name), attribute), f"{argv[2]} does not exist"
        assert argv[argv.index("--host") + 1] == "0.0.0.0", "the server must listen on every interface of the container"
        _check_forwarded(argv)
    elif argv[0] == "uvicorn":
        module_name, _, attribute = argv[1].partition(":")
        assert hasattr(importlib.import_module(module_name), attribute), f"{argv[1]} does not exist"
        assert argv[argv.index("--host") + 1] == "0.0.0.0", "Uvicorn must listen on every interface of the container"
        assert argv[argv.index("--ws") + 1] == "websockets-sansio", "the slow-client bound needs backpressure"
        _check_forwarded(argv)
        assert "--ws-max-size" in argv, "frames over HUB_MAX_FRAME_BYTES must be refused before being read whole"
        size = argv[argv.index("--ws-max-size") + 1]
        assert re.fullmatch(r"\$\$?\{?HUB_MAX_FRAME_BYTES(:-65536)?\}?", size), size
    elif argv[0] == "daphne":
        module_name, _, attribute = argv[-1].partition(":")
        assert hasattr(importlib.import_module(module_name), attribute), f"{argv[-1]} does not exist"
        assert argv[argv.index("-b") + 1] == "0.0.0.0", "Daphne must listen on every interface of the container"
    elif argv[0] == "celery":
        app_module = argv[argv.index("-A") + 1]
        app = getattr(importlib.import_module(app_module), "app", None)
        assert isinstance(app, Celery), f"no Celery app in {app_module}"
        assert argv[argv.index("-A") + 2] in ("worker", "beat")
    elif argv[:2] == ["python", "manage.py"]:
        assert (ROOT / "manage.py").exists()
        assert argv[2] in get_commands(), f"manage.py has no {argv[2]!r} command"
    else:
        pytest.fail(f"unknown program in a compose command: {argv}")


def _check_forwarded(argv: list[str]) -> None:
    """The server trusts X-Forwarded-* from the proxies of FORWARDED_ALLOW_IPS only, never from everyone."""
    assert "--forwarded-allow-ips" in argv, "without it a default applies silently"
    allowed = argv[argv.index("--forwarded-allow-ips") + 1]
    assert "*" not in allowed, "'*' trusts every client's X-Forwarded-For and X-Forwarded-Proto"
    assert re.fullmatch(r"\$\$?\{?FORWARDED_ALLOW_IPS(:-127\.0\.0\.1)?\}?", allowed), allowed


@pytest.mark.parametrize("name", IMAGE_SERVICES)
def test_image_services_run_real_code(name: str) -> None:
    """Each command of a service built from the Dockerfile names a module, app or command that exists."""
    assert "command" in SERVICES[name], f"{name} has no command"
    for argv in _steps(SERVICES[name]["command"]):
        _check_program(argv)


def test_dockerfile_default_command_runs_real_code() -> None:
    """The image's own CMD (docker run without a command) names real code too."""
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.MULTILINE)
    assert cmd is not None, "the Dockerfile has no exec-form CMD"
    steps = _steps(json.loads(cmd.group(1)))
    for argv in steps:
        _check_program(argv)
    assert steps[0] == ["python", "manage.py", "check", "--deploy"]
    assert steps[-1][:4] == ["python", "-m", "notifications.servers", "uvicorn"]


def test_no_forwarded_header_is_trusted_from_everyone() -> None:
    """No '*' for Uvicorn's trusted proxies anywhere; compose's default is its private network (only nginx reaches web)."""
    for text in ((ROOT / "compose.yaml").read_text(), DOCKERFILE):
        assert not re.search(r"forwarded-allow-ips\W+\*", text)
    for name in IMAGE_SERVICES:
        assert SERVICES[name]["environment"]["FORWARDED_ALLOW_IPS"] == "${FORWARDED_ALLOW_IPS:-172.16.0.0/12}"
    assert "web" not in str(SERVICES["web"].get("ports", "")) and "ports" not in SERVICES["web"]


def test_oversize_frames_are_refused_before_being_read() -> None:
    """Web serves through notifications.servers, which gives Uvicorn --ws-max-size = HUB_MAX_FRAME_BYTES.

    Plain ``uvicorn`` would read frames of up to 16 MiB; compose's default for the limit is the hub's.
    """
    from notifications.conf import DEFAULTS

    server = _steps(SERVICES["web"]["command"])[-1]
    assert server[:4] == ["python", "-m", "notifications.servers", "uvicorn"]
    assert "ws_max_size=_frame_limit(" in (ROOT / "notifications" / "servers.py").read_text()
    default = "${HUB_MAX_FRAME_BYTES:-%d}" % DEFAULTS["HUB_MAX_FRAME_BYTES"]
    assert SERVICES["web"]["environment"]["HUB_MAX_FRAME_BYTES"] == default


def test_https_is_on_unless_the_plain_http_switch_is_set() -> None:
    """Compose passes HUB_PLAIN_HTTP through, off by default."""
    for name in IMAGE_SERVICES:
        assert SERVICES[name]["environment"]["HUB_PLAIN_HTTP"] == "${HUB_PLAIN_HTTP:-false}"


def test_deploy_checks_and_migrations_run_once_before_the_replicas() -> None:
    """migrate runs the deploy checks (a weak secret stops it) and migrations; two web replicas wait for it."""
    steps = _steps(SERVICES["migrate"]["command"])
    assert steps == [["python", "manage.py", "check", "--deploy"], ["python", "manage.py", "migrate", "--noinput"]]
    assert SERVICES["web"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert _steps(SERVICES["web"]["command"])[-1][:3] == ["python", "-m", "notifications.servers"]
    assert SERVICES["web"]["deploy"]["replicas"] >= 2
    assert {"web", "proxy", "worker", "worker-realtime", "beat", "redis", "postgres"} <= set(SERVICES)


def test_a_real_proxy_passes_websockets_and_sse_to_the_replicas() -> None:
    """nginx publishes the port and proxies upgrades and unbuffered responses to the web service."""
    proxy = SERVICES["proxy"]
    assert proxy["image"].startswith("nginx:") and proxy["ports"] == ["${HUB_PORT:-8000}:80"]
    config_path = proxy["volumes"][0].split(":")[0]
    config = (ROOT / config_path).read_text()
    for line in ("server web:8000;", "proxy_set_header Upgrade $http_upgrade;",
                 "proxy_set_header Connection $connection_upgrade;", "proxy_buffering off;"):  # fmt: skip
        assert line in config, line


def test_realtime_work_has_its_own_worker_and_redis_a_memory_cap() -> None:
    """One worker for the jobs queue, one for HUB_REALTIME_QUEUE; Redis runs with maxmemory and noeviction."""
    from notifications.conf import DEFAULTS

    assert SERVICES["worker"]["command"][-2:] == ["--queues", "hub"]
    realtime = SERVICES["worker-realtime"]["command"]
    assert realtime[realtime.index("--queues") + 1] == DEFAULTS["HUB_REALTIME_QUEUE"]
    redis = SERVICES["redis"]["command"]
    assert redis[redis.index("--maxmemory-policy") + 1] == "noeviction" and "--maxmemory" in redis


@pytest.mark.parametrize("name", IMAGE_SERVICES)
def test_image_services_point_at_real_settings_and_services(name: str) -> None:
    """DJANGO_SETTINGS_MODULE is a module file; REDIS_URL and DATABASE_URL name services of this file."""
    environment = SERVICES[name]["environment"]
    settings_module = environment["DJANGO_SETTINGS_MODULE"]
    assert settings_module == "settings.production"
    spec = importlib.util.find_spec(settings_module)  # found, not imported: it needs real secrets
    assert spec is not None and spec.origin is not None and spec.origin.endswith(".py")
    for variable, scheme in (("REDIS_URL", "redis"), ("DATABASE_URL", "postgres")):
        url = urlsplit(environment[variable])
        assert url.scheme == scheme and url.hostname in SERVICES, f"{variable} names no service: {url.geturl()}"
    assert environment["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?"), "the secret must have no default"
    assert environment["ALLOWED_HOSTS"].startswith("${ALLOWED_HOSTS")


def test_depends_on_waits_for_healthy_services() -> None:
    """Every depends_on target exists, has a healthcheck, and is waited for until healthy."""
    for name, service in SERVICES.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions, not a list"
        for target, rule in depends_on.items():
            assert target in SERVICES, f"{name} depends on a missing service {target!r}"
            if target == "migrate":  # a one-shot job: waited for until it has exited 0
                assert rule == {"condition": "service_completed_successfully"}
                continue
            assert "healthcheck" in SERVICES[target], f"{name} waits for {target}, which has no healthcheck"
            assert rule == {"condition": "service_healthy"}, f"{name} -> {target}: {rule}"


def test_web_healthcheck_is_valid_python() -> None:
    """The web healthcheck runs ``python -c`` on a script that compiles and asks /hub/readyz for a 200."""
    test = SERVICES["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    compile(test[3], "web healthcheck", "exec")
    assert 'HTTPConnection("127.0.0.1", 8000' in test[3] and 'request("GET", "/hub/readyz"' in test[3]
    assert "status == 200" in test[3]
    assert "hub/(healthz|readyz)" in (ROOT / "settings" / "production.py").read_text(), "readyz must not redirect"


def test_dockerfile_installs_production_requirements_and_collects_static() -> None:
    """The Dockerfile installs requirements/production.txt (which exists) and runs collectstatic in production."""
    assert re.search(r"^FROM python:3\.11-slim\b", DOCKERFILE, re.MULTILINE)
    assert re.search(r"pip install .*-r requirements/production\.txt", DOCKERFILE)
    assert (ROOT / "requirements" / "production.txt").exists()
    collect = re.search(r"^RUN (?:[^\n]*\\\n)*[^\n]*collectstatic[^\n]*", DOCKERFILE, re.MULTILINE)
    assert collect is not None and "DJANGO_SETTINGS_MODULE=settings.production" in collect.group(0)


def test_dockerignore_keeps_the_code_and_drops_local_state() -> None:
    """.dockerignore leaves out the virtualenv and local state, but not what the services run."""
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
    needed = {"manage.py", "hub", "notifications", "settings", "workers", "tasks", "templates", "requirements"}
    assert {".venv", ".hub", ".git", ".env"} <= ignored
    assert not needed & ignored
