"""``manage.py runhub``: the whole hub on one machine, what ``make run`` calls.

Starts Redis (embedded, unless REDIS_URL is set), migrates, runs HUB_RUNHUB_COMMANDS, then
supervises the server (Daphne serving ASGI_APPLICATION; Uvicorn with ``--processes N``),
two Celery workers (jobs, and realtime work on HUB_REALTIME_QUEUE) and Celery beat (of
HUB_CELERY_APP) until Ctrl-C or until one of them dies. Children get ``REDIS_URL``; their
output goes to HUB_STATE_DIR/logs/<name>.log, and the terminal gets a short status.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections

from notifications.conf import hub_settings, state_dir
from notifications.embedded_redis import EmbeddedRedis

logger = logging.getLogger(__name__)

_GRACE_SECONDS = 8.0  # between SIGTERM and SIGKILL for each child
_POLL_SECONDS = 0.2  # how often the children are checked
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class _Child:
    """A supervised process, started in its own process group so that its own children go with it."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path | None = None


class Command(BaseCommand):
    help = "Serve the hub: Redis (embedded unless REDIS_URL is set), the server, Celery workers and beat."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address the server binds (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port the server listens on (default 8000).")
        parser.add_argument(
            "--processes", type=int, default=1,
            help="Server processes (default 1: Daphne; more: Uvicorn workers sharing the port).",
        )  # fmt: skip
        parser.add_argument("--no-worker", action="store_true", help="Do not start a Celery worker.")
        parser.add_argument("--no-beat", action="store_true", help="Do not start Celery beat.")

    def handle(
        self, *args: Any, host: str, port: int, processes: int, no_worker: bool, no_beat: bool, **options: Any
    ) -> None:
        if not 1 <= processes <= 64:
            raise CommandError("--processes must be between 1 and 64, not %d." % processes)
        _check_free(host, port)
        server_app = _asgi_target()
        celery_app = None if no_worker and no_beat else _celery_app(server_app)
        if celery_app is None and not (no_worker and no_beat):
            self._say("No Celery app found: set HUB_CELERY_APP to run a worker and beat (docs/install.md).")
        # Everything runhub and its children write (Redis data and password, the database,
        # logs) is private to the user running it.
        os.umask(0o077)
        directory = state_dir()
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o700)
        url_file = directory / "redis.url"
        logs = directory / "logs"
        logs.mkdir(exist_ok=True)
        received: list[int] = []  # stop signals, recorded by the handler and acted on by the loop

        def record(number: int, frame: FrameType | None) -> None:
            received.append(number)

        previous = {number: signal.signal(number, record) for number in _STOP_SIGNALS}
        embedded: EmbeddedRedis | None = None
        children: list[_Child] = []
        failed: _Child | None = None
        try:
            redis_url = os.environ.get("REDIS_URL", "")
            if redis_url:
                _check_redis(redis_url)
                redis_note = "%s from REDIS_URL" % _redacted(redis_url)
            else:
                embedded = _start_embedded(directory / "redis")
                redis_url = embedded.url
                url_file.write_text(redis_url + "\n")
                redis_note = "embedded %s, stopped with the hub" % _redacted(redis_url)
            self._prepare_database(options["verbosity"])
            if received:
                return
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE, "REDIS_URL": redis_url}
            plan = _commands(host, port, processes, directory, server_app, celery_app, not no_worker, not no_beat)
            for name, command in plan:
                children.append(_start(name, command, env, logs / ("%s.log" % name)))
                self._say("  %-17s pid %-7d log %s" % (name, children[-1].process.pid, _shown(children[-1].log)))
            failed = self._supervise(children, embedded, received, host, port, redis_note)
        finally:
            _stop_all(children, self._say)
            if embedded is not None:
                embedded.stop()
                url_file.unlink(missing_ok=True)
            for number, handler in previous.items():
                signal.signal(number, handler)
        if failed is not None:
            sys.exit(1)
        self._say("The hub stopped.")

    def _prepare_database(self, verbosity: int) -> None:
        """Apply migrations, then run HUB_RUNHUB_COMMANDS; raise CommandError if the database fails."""
        try:
            call_command("migrate", interactive=False, verbosity=max(verbosity - 1, 0))
            for name in hub_settings.HUB_RUNHUB_COMMANDS:
                call_command(name)
        except DatabaseError as error:
            raise CommandError("The database failed: %s" % str(error).strip().splitlines()[0]) from error
        finally:
            connections.close_all()

    def _supervise(
        self,
        children: list[_Child],
        embedded: EmbeddedRedis | None,
        received: list[int],
        host: str,
        port: int,
        note: str,
    ) -> _Child | None:
        """Watch the children until a stop signal arrives (return None) or one of them exits (return it)."""
        watched = list(children)
        if embedded is not None and embedded.process is not None:
            watched.append(_Child("redis", embedded.process))
        announced = False
        while not received:
            for child in watched:
                code = child.process.poll()
                if code is not None and not received:
                    self._say("%s exited with code %s; stopping the hub" % (child.name, _describe(code)), error=True)
                    for line in _tail(child.log):
                        self._say("  %s | %s" % (child.name, line), error=True)
                    return child
            if not announced and _answers(host, port):
                self._say("Serving the hub at %s (Redis: %s). Ctrl-C stops it." % (_http_url(host, port), note))
                announced = True
            time.sleep(_POLL_SECONDS)  # a short poll: children and signals give no other portable wake-up
        logger.debug("received signal %s", received[0])
        return None

    def _say(self, text: str, error: bool = False) -> None:
        """Write one line to stdout (or stderr) and flush it, so that it shows up when piped too."""
        stream = self.stderr if error else self.stdout
        stream.write(text)
        stream.flush()


def _commands(
    host: str,
    port: int,
    processes: int,
    directory: Path,
    server_app: str,
    celery_app: str | None,
    worker: bool,
    beat: bool,
) -> list[tuple[str, list[str]]]:
    """Return (name, argv) of each child to start."""
    python = sys.executable
    # The servers with the hub's bounds: frames over HUB_MAX_FRAME_BYTES refused unread, slow handshakes dropped.
    where = ["--host", host, "--port", str(port)]
    if processes == 1:
        commands = [("daphne", [python, "-m", "notifications.servers", "daphne", server_app, *where])]
    else:
        serve = [python, "-m", "notifications.servers", "uvicorn", server_app, *where, "--workers", str(processes)]
        commands = [("uvicorn", serve)]
    if celery_app is None:
        return commands
    celery = [python, "-m", "celery", "-A", celery_app]
    if worker:
        jobs_queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
        realtime = ["worker", "--loglevel", "INFO", "--concurrency", "1", "--queues", hub_settings.HUB_REALTIME_QUEUE]
        commands.append(
            ("worker-jobs", [*celery, "worker", "--loglevel", "INFO", "--concurrency", "2", "--queues", jobs_queue])
        )
        commands.append(("worker-realtime", [*celery, *realtime, "--hostname", "realtime@%h"]))
    if beat:
        schedule = str(directory / "celerybeat-schedule")
        commands.append(("beat", [*celery, "beat", "--loglevel", "INFO", "--schedule", schedule]))
    return commands


def _asgi_target() -> str:
    """Return ASGI_APPLICATION as Daphne names it ("package.module:attribute"); raise CommandError if unset."""
    dotted = getattr(settings, "ASGI_APPLICATION", None)
    module, _, attribute = (dotted or "").rpartition(".")
    if not module:
        raise CommandError(
            "Set ASGI_APPLICATION to your asgi module's application, e.g. 'mysite.asgi.application' (docs/install.md)."
        )
    return "%s:%s" % (module, attribute)


def _celery_app(server_app: str) -> str | None:
    """Return HUB_CELERY_APP, else the ASGI package if it has a ``celery`` module (Celery's Django layout), else None."""
    if hub_settings.HUB_CELERY_APP:
        return hub_settings.HUB_CELERY_APP
    package = server_app.split(".", 1)[0]
    with contextlib.suppress(ImportError, ValueError):
        if importlib.util.find_spec("%s.celery" % package) is not None:
            return package
    return None


def _start(name: str, command: list[str], env: dict[str, str], log: Path) -> _Child:
    """Start one child in its own process group, in the project directory, its output appended to ``log``."""
    directory = getattr(settings, "BASE_DIR", None) or Path.cwd()
    with log.open("ab") as output:
        output.write(b"\n---- %s: %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S").encode(), " ".join(command).encode()))
        output.flush()
        process = subprocess.Popen(
            command, cwd=directory, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            process_group=0,
        )  # fmt: skip
    logger.debug("started %s as pid %d", name, process.pid)
    return _Child(name, process, log)


def _tail(log: Path | None, lines: int = 15) -> list[str]:
    """Return the last ``lines`` lines of a child's log (what explains its exit)."""
    if log is None or not log.exists():
        return []
    return log.read_text(errors="replace").splitlines()[-lines:]


def _shown(path: Path | None) -> str:
    """Return ``path`` relative to the working directory where it can be."""
    if path is None:
        return ""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _stop_all(children: list[_Child], say: Callable[..., None]) -> None:
    """SIGTERM every child, SIGKILL the process groups of those still running after the grace period."""
    for child in children:
        if child.process.poll() is None:
            child.process.terminate()
    deadline = time.monotonic() + _GRACE_SECONDS
    for child in children:
        try:
            child.process.wait(max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            say("%s did not stop within %.0f s; killing it" % (child.name, _GRACE_SECONDS), error=True)
            _kill_group(child.process.pid)
            child.process.wait()
        _kill_group(child.process.pid)  # whatever the child left behind (say, Celery pool processes)


def _kill_group(group: int) -> None:
    """SIGKILL every process of a process group, if any remains."""
    with contextlib.suppress(ProcessLookupError):  # the group is empty: nothing left to kill
        os.killpg(group, signal.SIGKILL)


def _check_free(host: str, port: int) -> None:
    """Raise CommandError unless Daphne could listen on host:port."""
    if not 0 < port < 65536:
        raise CommandError("--port must be between 1 and 65535, not %d." % port)
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as error:
        raise CommandError("Cannot serve on host %r: %s." % (host, error.strerror)) from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Daphne (Twisted) does
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise CommandError("Port %d on %s is in use; choose another with --port." % (port, host)) from None
            raise CommandError("Cannot listen on %s:%d: %s." % (host, port, error.strerror)) from None


def _check_redis(url: str) -> None:
    """Raise CommandError unless the Redis at ``url`` answers PING."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, ValueError) as error:
        raise CommandError(
            "Redis at %s (REDIS_URL) does not answer: %s. Start it, or unset REDIS_URL for an embedded one."
            % (_redacted(url), str(error).rstrip("."))
        ) from None


def _start_embedded(directory: Path) -> EmbeddedRedis:
    """Start an embedded Redis with its files in ``directory``; raise CommandError if it cannot start."""
    server = EmbeddedRedis(
        directory, persistent=True, password=True, maxmemory=hub_settings.HUB_EMBEDDED_REDIS_MAXMEMORY
    )
    try:
        server.start()
    except RuntimeError as error:
        raise CommandError("Cannot start the embedded Redis: %s" % error) from None
    return server


def _answers(host: str, port: int) -> bool:
    """Return whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host if host not in ("0.0.0.0", "::") else "localhost", port), timeout=0.2):
            return True
    except OSError:
        return False


def _http_url(host: str, port: int) -> str:
    """Return the URL a browser on this machine opens to reach the hub."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, "[%s]" % host if ":" in host else host)
    return "http://%s:%d/" % (shown, port)


def _redacted(url: str) -> str:
    """Return ``url`` with its password, if any, replaced by ``***``."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return parts._replace(netloc=parts.netloc.replace(":%s@" % parts.password, ":***@", 1)).geturl()


def _describe(code: int) -> str:
    """Return an exit code as text, naming the signal when a signal ended the process."""
    if code >= 0:
        return str(code)
    try:
        return "%d (killed by %s)" % (code, signal.Signals(-code).name)
    except ValueError:
        return str(code)
