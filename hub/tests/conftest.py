"""Fixtures that serve the project with ``settings.production``, as compose.yaml's web service does."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT, port_open, start_process, stop_process, subprocess_env
from notifications.embedded_redis import free_port

# What compose.yaml gives the web service, less what a test on this machine changes (hosts, TLS).
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "settings.production",
    "ALLOWED_HOSTS": "127.0.0.1",
    "FORWARDED_ALLOW_IPS": "127.0.0.1",
    "HUB_MAX_FRAME_BYTES": "65536",
    "HUB_PLAIN_HTTP": "false",
}


def production_env(static_root: Path | None = None, **overrides: str) -> dict[str, str]:
    """Return the environment of a production process on this run's Redis and test database, with a strong secret."""
    env = subprocess_env(**{**PRODUCTION, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50), **overrides})
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("DJANGO_DEBUG", None)
    if static_root is not None:
        env["STATIC_ROOT"] = str(static_root)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py`` with ``args`` in ``env``; return the finished process (output merged)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def compose_web_server(port: int) -> list[str]:
    """Return compose.yaml's own server command line, on 127.0.0.1:``port``, run by ``sh`` as in the container."""
    script = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["web"]["command"][2]
    server = script.split("&&")[-1].strip().replace("$$", "$")  # compose's escape of a shell's "$"
    assert server.startswith("exec python -m notifications.servers uvicorn ") and "--port 8000" in server
    return ["sh", "-c", server.replace("--host 0.0.0.0", "--host 127.0.0.1").replace("--port 8000", f"--port {port}")]


# collectstatic with one more static folder. The manifest storage refuses a file that names a missing
# one, and notifications/static/notifications/vendor/purify.min.js ends with a sourceMappingURL to a
# purify.min.js.map that `make vendor` does not copy: until it does, the extra folder supplies a stub.
_COLLECT = """
import sys
import django
from django.conf import settings
from django.core.management import call_command

django.setup()
settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, sys.argv[1]]
call_command("collectstatic", "--noinput", verbosity=0)
"""
_MISSING_FILES = {"notifications/vendor/purify.min.js.map": '{"version": 3, "sources": [], "mappings": ""}'}


@pytest.fixture(scope="session")
def production_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run collectstatic under settings.production (WhiteNoise's manifest storage) into a folder of this run."""
    root, stubs = tmp_path_factory.mktemp("production-static"), tmp_path_factory.mktemp("static-stubs")
    for name, text in _MISSING_FILES.items():
        if not (ROOT / "notifications" / "static" / name).exists():
            (stubs / name).parent.mkdir(parents=True, exist_ok=True)
            (stubs / name).write_text(text)
    command = [sys.executable, "-c", _COLLECT, str(stubs)]
    collected = subprocess.run(command, cwd=ROOT, env=production_env(root), capture_output=True, text=True, timeout=300)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    return root


@pytest.fixture
def production_hub(
    django_db_setup: Any, production_static: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """Return a starter of compose's Uvicorn under settings.production (env overrides as keywords); yields base URLs."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(**overrides: str) -> str:
        port = free_port()
        log = tmp_path_factory.mktemp("production-hub") / "uvicorn.log"
        env = production_env(production_static, **overrides)
        processes.append(start_process(compose_web_server(port), log, lambda: port_open(port), "Uvicorn", env=env))
        return f"http://127.0.0.1:{port}"

    yield start
    for process in processes:
        stop_process(process)
