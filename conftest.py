"""Fixtures shared by the suite: a live Daphne, a real Celery worker, users and tokens."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from notifications.embedded_redis import free_port

ROOT = Path(__file__).resolve().parent

# Browser fixtures (chromium, page, orm_beside_playwright) for every test module.
pytest_plugins = ["notifications.tests.browser"]


@dataclass(frozen=True)
class LiveHub:
    """A hub served by a Daphne subprocess."""

    port: int

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"


def _test_database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def subprocess_env(**overrides: str) -> dict[str, str]:
    """Return the environment for a hub process that shares this run's Redis and test database."""
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "settings.test", "DATABASE_URL": _test_database_url(), **overrides}


def start_process(
    command: list[str], log: Path, ready: Any, what: str, timeout: float = 30.0, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``command`` logging to ``log``; return once ``ready()`` is true (or raise with the log)."""
    handle = log.open("ab")
    process = subprocess.Popen(command, cwd=ROOT, env=env or subprocess_env(), stdout=handle, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{what} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)  # polling for readiness, bounded by the deadline
    return process


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process`` (kill it if it lingers) and reap it."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(condition: Any, timeout: float = 10.0) -> Any:
    """Poll ``condition`` (e.g. metrics flushed once a second) until it is truthy; return it."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)  # polling for the next flush, bounded by the deadline
    return value


def port_open(port: int) -> bool:
    """Tell whether something accepts TCP connections on 127.0.0.1:``port``."""
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def daphne_command(port: int) -> list[str]:
    """Return the command that serves the hub with Daphne on ``port``, as ``make run`` does (notifications.servers)."""
    return [sys.executable, "-m", "notifications.servers", "daphne", "hub.asgi:application", "--port", str(port)]


def uvicorn_command(port: int) -> list[str]:
    """Return the command that serves the hub with Uvicorn on ``port``, as production does (notifications.servers)."""
    return [sys.executable, "-m", "notifications.servers", "uvicorn", "hub.asgi:application", "--port", str(port)]


@pytest.fixture(scope="session")
def live_hub(django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    """Serve the hub with Daphne on a free port for the whole session."""
    yield from _served_by_daphne(tmp_path_factory, "daphne")


@pytest.fixture(scope="session")
def second_hub(live_hub: LiveHub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    """A second Daphne process on the same Redis and database, for tests that span server processes."""
    yield from _served_by_daphne(tmp_path_factory, "daphne-2")


def _served_by_daphne(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[LiveHub]:
    """Run a Daphne subprocess of the hub for as long as the caller holds it; fail if it logged a traceback."""
    port = free_port()
    log = tmp_path_factory.mktemp(name) / "daphne.log"
    process = start_process(daphne_command(port), log, lambda: port_open(port), name)
    yield LiveHub(port)
    stop_process(process)
    # A consumer that crashed shows up only here: fail loudly rather than as a timeout.
    assert "Traceback" not in log.read_text(), log.read_text()[-5000:]


@pytest.fixture(scope="session")
def celery_worker(django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Run a real Celery worker on this run's queue; yield its log file."""
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    command = [
        sys.executable, "-m", "celery", "-A", "workers", "worker", "--pool", "prefork", "--concurrency", "1",
        "--without-gossip", "--without-mingle", "--loglevel", "INFO",
        "--queues", "%s,%s" % (os.environ["CELERY_TASK_DEFAULT_QUEUE"], os.environ["HUB_REALTIME_QUEUE"]),
    ]  # fmt: skip
    process = start_process(command, log, lambda: log.exists() and b" ready." in log.read_bytes(), "Celery worker")
    yield log
    stop_process(process)


@pytest.fixture
def make_user(transactional_db: Any, django_user_model: Any) -> Any:
    """Return a factory of committed users (visible to the Daphne and Celery subprocesses)."""

    def make(username: str, **fields: Any) -> Any:
        return django_user_model.objects.create_user(username=username, password="pw-" + username, **fields)

    return make


@pytest.fixture
def token_for() -> Any:
    """Return a function that mints a hub token for a user."""
    from notifications import tokens

    return tokens.mint
