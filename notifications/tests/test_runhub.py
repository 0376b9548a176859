"""``manage.py runhub``: real Redis, Daphne and Celery processes, started and stopped as a user would."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
import websockets

from notifications.embedded_redis import free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads child processes from /proc (Linux)")


class _Hub:
    """A ``manage.py runhub`` subprocess whose merged stdout and stderr are collected line by line."""

    def __init__(self, state_dir: Path, port: int, *options: str):
        env = {name: value for name, value in os.environ.items() if name not in ("REDIS_URL", "DATABASE_URL")}
        env.update(HUB_STATE_DIR=str(state_dir), DJANGO_SETTINGS_MODULE="settings.local", PYTHONUNBUFFERED="1")
        command = [sys.executable, "manage.py", "runhub", "--port", str(port), "--no-beat", *options]
        self.port = port
        self.state_dir = state_dir
        self.lines: list[str] = []
        self.closed = False
        self.children: dict[int, tuple[str, str]] = {}
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            for raw in self.process.stdout:
                with self._changed:
                    self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                    self._changed.notify_all()
        with self._changed:
            self.closed = True  # runhub and every child that shares its stdout have exited
            self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, text: str, timeout: float) -> str:
        """Return the first output line containing ``text``; fail if it does not come within ``timeout``."""

        def found() -> str | None:
            return next((line for line in self.lines if text in line), None)

        with self._changed:
            self._changed.wait_for(lambda: found() is not None or self.closed, timeout)
            line = found()
        assert line is not None, f"runhub never printed {text!r}; output:\n{self.output[-4000:]}"
        return line

    def stop(self) -> None:
        """Kill whatever a test left running: the supervisor, and its children recorded or found now."""
        if self.process.poll() is None:
            self.children = {**self.children, **_descendants(self.process.pid)}  # before they lose their parent
            self.process.kill()
            self.process.wait()
        for pid in _alive(self.children):
            os.kill(pid, signal.SIGKILL)
        self._reader.join(timeout=10)  # the output ends once no process holds it open


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[_Hub]:
    """A runhub on a free port with its own state directory and, REDIS_URL unset, its own embedded Redis."""
    started = _Hub(tmp_path / "state", free_port())
    yield started
    started.stop()


def _descendants(pid: int) -> dict[int, tuple[str, str]]:
    """Return {pid: (start time, command line)} of every process below ``pid``, read from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        stat = _stat(entry.name) if entry.name.isdigit() else None
        if stat is not None:
            parents.setdefault(int(stat[1]), []).append(int(entry.name))
    found: dict[int, tuple[str, str]] = {}
    pending = list(parents.get(pid, []))
    while pending:
        child = pending.pop()
        stat = _stat(str(child))
        if stat is not None:
            found[child] = (stat[19], _cmdline(child))
        pending.extend(parents.get(child, []))
    return found


def _cmdline(pid: int) -> str:
    """Return the command line of a process, or "" if it is gone."""
    try:
        return Path("/proc", str(pid), "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""


def _stat(pid: str) -> list[str] | None:
    """Return the fields of /proc/PID/stat after the command name (state, ppid, ...), or None if it is gone."""
    try:
        text = Path("/proc", pid, "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2 :].split()


def _alive(processes: dict[int, tuple[str, str]]) -> dict[int, str]:
    """Return {pid: command line} of those processes that still run (same start time, not a zombie)."""
    left = {}
    for pid, (started, cmdline) in processes.items():
        stat = _stat(str(pid))
        if stat is not None and stat[19] == started and stat[0] != "Z":
            left[pid] = cmdline
    return left


def _ready(hub: _Hub) -> dict[int, tuple[str, str]]:
    """Wait until runhub says it serves and / answers 200; return its descendants."""
    line = hub.wait_for_line("Serving the hub at", timeout=60)
    assert f"http://127.0.0.1:{hub.port}/" in line
    url = (hub.state_dir / "redis.url").read_text().strip()
    password = urlsplit(url).password
    assert password and f"embedded {url.replace(password, '***')}," in line
    with urllib.request.urlopen(f"http://127.0.0.1:{hub.port}/", timeout=10) as response:
        assert response.status == 200
    hub.children = _descendants(hub.process.pid)
    commands = " | ".join(cmdline for _, cmdline in hub.children.values())
    programs = ("-m notifications.servers daphne", "-A workers worker", "--queues hubtest", "realtime@", "redis-server")
    for program in programs:
        assert program in commands, f"no {program} below runhub: {commands}"
    assert " beat " not in commands
    return hub.children


async def _first_frame(url: str) -> dict[str, Any]:
    async with websockets.connect(url, open_timeout=10) as socket:
        return json.loads(await asyncio.wait_for(socket.recv(), timeout=10))


def test_runhub_serves_http_and_websockets_and_stops_cleanly_on_sigint(hub: _Hub) -> None:
    """runhub serves / and /ws/, then SIGINT stops every child and it exits 0."""
    children = _ready(hub)
    assert asyncio.run(_first_frame(f"ws://127.0.0.1:{hub.port}/ws/"))["type"] == "hello"
    hub.process.send_signal(signal.SIGINT)
    assert hub.process.wait(timeout=15) == 0, hub.output[-4000:]
    assert _alive(children) == {}
    hub.wait_for_line("The hub stopped.", timeout=5)
    assert not (hub.state_dir / "redis.url").exists()
    assert [line.split(" / ")[0] for line in (hub.state_dir / "demo-users.txt").read_text().splitlines()] == [
        "alice", "bob", "admin",
    ]  # fmt: skip


def test_runhub_stops_everything_when_daphne_dies(hub: _Hub) -> None:
    """When Daphne is killed, runhub names it, stops the rest and exits non-zero."""
    children = _ready(hub)
    daphne = next(pid for pid, (_, cmdline) in children.items() if "servers daphne" in cmdline)
    os.kill(daphne, signal.SIGKILL)
    assert hub.process.wait(timeout=15) != 0, hub.output[-4000:]
    hub.wait_for_line("daphne exited with code -9", timeout=5)
    assert _alive(children) == {}


def test_runhub_keeps_its_files_private_and_its_history_across_a_restart(hub: _Hub, tmp_path: Path) -> None:
    """The embedded Redis needs its password and keeps an append-only file: a restarted hub replays old events."""
    _ready(hub)
    url = (hub.state_dir / "redis.url").read_text().strip()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=urlsplit(url).port).ping()
    assert redis.Redis.from_url(url).config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    event_id = asyncio.run(_publish_in_lobby(f"ws://127.0.0.1:{hub.port}/ws/", "before the restart"))
    hub.process.send_signal(signal.SIGINT)
    assert hub.process.wait(timeout=15) == 0, hub.output[-4000:]
    exposed = [path for path in hub.state_dir.rglob("*") if path.is_file() and path.stat().st_mode & 0o077]
    assert exposed == [] and hub.state_dir.stat().st_mode & 0o077 == 0, exposed

    again = _Hub(hub.state_dir, free_port())
    try:
        _ready(again)
        frames = asyncio.run(_replay_lobby(f"ws://127.0.0.1:{again.port}/ws/"))
    finally:
        again.stop()
    assert [(frame["type"], frame.get("id"), frame.get("data")) for frame in frames] == [
        ("event", event_id, {"text": "before the restart"})
    ]


async def _publish_in_lobby(url: str, text: str) -> str:
    async with websockets.connect(url, open_timeout=10) as socket:
        await socket.recv()  # hello
        await socket.send(json.dumps({"type": "subscribe", "topic": "chat.lobby", "ref": 1}))
        await socket.send(
            json.dumps({"type": "publish", "topic": "chat.lobby", "event": "message", "data": {"text": text}, "ref": 2})
        )
        while (frame := json.loads(await asyncio.wait_for(socket.recv(), 10)))["type"] != "published":
            pass
        return str(frame["id"])


async def _replay_lobby(url: str) -> list[dict[str, Any]]:
    """Subscribe to the lobby from position 0-0; return the frames before a ping's pong."""
    async with websockets.connect(url, open_timeout=10) as socket:
        await socket.recv()  # hello
        await socket.send(json.dumps({"type": "subscribe", "topic": "chat.lobby", "since": "0-0", "ref": 1}))
        await socket.send(json.dumps({"type": "ping", "ref": 2}))
        frames = []
        while (frame := json.loads(await asyncio.wait_for(socket.recv(), 10)))["type"] != "pong":
            if frame["type"] != "subscribed":
                frames.append(frame)
        return frames


def test_runhub_serves_with_several_processes_and_keeps_the_terminal_short(tmp_path: Path) -> None:
    """--processes 2 serves with two Uvicorn workers; the terminal gets one line per process, logs go to files."""
    hub = _Hub(tmp_path / "state", free_port(), "--processes", "2", "--no-worker")
    try:
        hub.wait_for_line("Serving the hub at", timeout=60)
        assert asyncio.run(_first_frame(f"ws://127.0.0.1:{hub.port}/ws/"))["type"] == "hello"
        servers = [cmd for _, cmd in _descendants(hub.process.pid).values() if "multiprocessing" in cmd]
        assert len(servers) >= 2, servers  # Uvicorn's two worker processes
        status = [line for line in hub.lines if " pid " in line]
        assert [line.split()[0] for line in status] == ["uvicorn"], hub.output
        assert (hub.state_dir / "logs" / "uvicorn.log").exists()
        assert len(hub.lines) < 15, hub.output  # a short status, not the servers' logs
    finally:
        hub.stop()
