"""The servers the benchmarks compare, and how to start them and read their CPU time and memory.

Each setup is a command line (``{port}`` is filled in), the settings module, the client
dialect (``hub``, ``socketio``, ``raw``), the publisher that feeds it and how many server
processes it runs on separate ports (clients are split evenly across them). CPU time and
RSS are read from ``/proc`` for the whole process tree of each server (Uvicorn's
``--workers`` supervisor and its workers included).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from notifications.embedded_redis import EmbeddedRedis, free_port  # noqa: E402

PY = sys.executable
TICKS = os.sysconf("SC_CLK_TCK")
HUB = [PY, "-m", "notifications.servers", "uvicorn", "hub.asgi:application", "--port", "{port}"]
UVICORN = [PY, "-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}", "--ws", "websockets-sansio",
           "--lifespan", "off", "--no-access-log", "--log-level", "warning"]  # fmt: skip


@dataclass(frozen=True)
class Setup:
    """One server setup of the comparison."""

    command: list[str]
    kind: str  # the client dialect: hub, socketio or raw
    publisher: str  # bench/publisher.py's kind, or "node" for bench/socketio_publisher.js
    settings: str = "settings.local"
    processes: int = 1  # server processes on separate ports, clients split evenly
    path: str | None = None  # the websocket path, when not the dialect's own


SETUPS = {
    "hub": Setup(HUB, "hub", "hub"),
    "hub-unbatched": Setup(HUB, "hub", "hub", path="/ws/"),  # a client that does not ask for ?batch=1
    "hub-x2": Setup(HUB, "hub", "hub", processes=2),
    "hub-workers2": Setup([*HUB, "--workers", "2"], "hub", "hub"),
    "hub-daphne": Setup([PY, "-m", "notifications.servers", "daphne", "hub.asgi:application", "--port", "{port}"],
                        "hub", "hub"),
    "socketio": Setup(["node", "bench/socketio_server.js", "{port}"], "socketio", "node"),
    "socketio-x2": Setup(["node", "bench/socketio_server.js", "{port}"], "socketio", "node", processes=2),
    "pysocketio": Setup([*UVICORN, "bench.pysocketio_server:application"], "socketio", "pysocketio"),
    "raw": Setup([PY, "bench/raw_server.py", "{port}"], "raw", "raw"),
    "tutorial": Setup([PY, "-m", "daphne", "-b", "127.0.0.1", "-p", "{port}", "-v", "0", "bench.tutorial:application"],
                      "raw", "tutorial", "bench.tutorial_settings", path="/ws/tutorial/"),
    "tutorial-pubsub": Setup([*UVICORN, "bench.tutorial:application"], "raw", "tutorial",
                             "bench.tutorial_pubsub_settings", path="/ws/tutorial/"),
}  # fmt: skip


class Servers:
    """The running server processes of one setup."""

    def __init__(self, name: str, env: dict[str, str], ports: list[int] | None = None):
        self.name, self.setup = name, SETUPS[name]
        self.env = {**env, "DJANGO_SETTINGS_MODULE": self.setup.settings}
        self.ports = ports or [free_port() for _ in range(self.setup.processes)]
        self.processes: list[subprocess.Popen] = []

    def start(self) -> Servers:
        """Start every process and return once all listen (stderr goes to /tmp/bench-<name>-<i>.log)."""
        for i, port in enumerate(self.ports):
            with open(f"/tmp/bench-{self.name}-{i}.log", "a") as log:
                command = [part.replace("{port}", str(port)) for part in self.setup.command]
                self.processes.append(subprocess.Popen(
                    command, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
                ))  # fmt: skip
        for port, process in zip(self.ports, self.processes, strict=True):
            wait_port(port, process)
        return self

    def cpu_seconds(self) -> float:
        """Return the user+system CPU seconds of every process of the setup so far."""
        return sum(tree_cpu_ticks(p.pid) for p in self.processes) / TICKS

    def rss_kb(self) -> int:
        """Return the summed RSS of every process of the setup."""
        return sum(tree_rss_kb(p.pid) for p in self.processes)

    def kill(self) -> None:
        """SIGKILL every process of the setup (and its workers) at once, as a crash would."""
        for process in self.processes:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, 9)
            process.wait()
        self.processes = []

    def stop(self) -> None:
        """Stop every process: SIGTERM, then SIGKILL after 15 s."""
        for process in self.processes:
            try:
                os.killpg(process.pid, 15)
            except ProcessLookupError:
                continue
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()
        self.processes = []


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def tree_pids(pid: int) -> list[int]:
    """Return ``pid`` and all its descendants."""
    tree, found, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += tree.get(current, [])
    return found


def tree_cpu_ticks(pid: int) -> int:
    """Return utime+stime (clock ticks) of ``pid`` and its living descendants."""
    total = 0
    for each in tree_pids(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def tree_rss_kb(pid: int) -> int:
    """Return the summed VmRSS of ``pid`` and its descendants."""
    total = 0
    for each in tree_pids(pid):
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def wait_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    """Return once ``port`` accepts connections; raise if ``process`` exits or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)  # polling for the server's port, bounded
    raise RuntimeError("server did not open its port")


@contextmanager
def environment(prefix: str) -> Iterator[dict[str, str]]:
    """Yield the benchmarks' environment: Redis (embedded unless REDIS_URL is set) and a migrated SQLite file."""
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    env = {**os.environ, "HUB_REDIS_PREFIX": prefix, "DJANGO_DEBUG": "false", "PYTHONPATH": str(ROOT),
           "HUB_MAX_CONNECTIONS_PER_ADDRESS": "0"}  # fmt: skip
    env.setdefault("DATABASE_URL", f"sqlite:///{ROOT / '.hub' / 'bench.sqlite3'}")
    redis = None
    if not env.get("REDIS_URL"):
        redis = EmbeddedRedis(ROOT / ".hub" / f"{prefix}-redis")
        env["REDIS_URL"] = redis.start()
    try:
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True,
                       env={**env, "DJANGO_SETTINGS_MODULE": "settings.local"})  # fmt: skip
        yield env
    finally:
        if redis is not None:
            redis.stop()


def publisher_command(setup: Setup, events: int, rate: float, extra: list[str] | None = None) -> list[str]:
    """Return the command line of ``setup``'s publisher process."""
    if setup.publisher == "node":
        return ["node", "bench/socketio_publisher.js", str(events), str(rate)]
    return [PY, "bench/publisher.py", setup.publisher, "--events", str(events), "--rate", str(rate), *(extra or [])]


def table(rows: list[dict]) -> str:
    """Return ``rows`` (dicts with the same keys) as a plain-text table."""
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(_cell(r[c])) for r in rows)) for c in columns}
    lines = [" | ".join(c.ljust(widths[c]) for c in columns), "-+-".join("-" * widths[c] for c in columns)]
    lines += [" | ".join(_cell(r[c]).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def _cell(value: object) -> str:
    return "" if value is None else str(value)


async def start_profiler(pid: int, output: Path) -> subprocess.Popen:
    """Start py-spy (250 Hz, raw format, only the thread holding the GIL) on process ``pid``; return once it has had a second to attach."""
    spy = subprocess.Popen(
        [str(Path(PY).parent / "py-spy"), "record", "--pid", str(pid), "--format", "raw", "--rate", "250",
         "--output", str(output), "--nonblocking", "--gil"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    await asyncio.sleep(1)  # py-spy attaches
    return spy


def stop_profiler(spy: subprocess.Popen) -> None:
    """Stop py-spy: it writes its profile on SIGINT."""
    spy.send_signal(2)
    spy.wait(30)


def top_of_profile(path: Path, count: int = 20) -> str:
    """Return the functions with the most samples in a py-spy raw profile: self and inclusive."""
    own, inclusive, total = Counter(), Counter(), 0
    for line in path.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack or not samples.isdigit():
            continue
        frames = [f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0].split("/site-packages/")[-1].split(
            "/main/")[-1] + ")" for f in stack.split(";")]  # fmt: skip
        n = int(samples)
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    lines = [f"{total} samples; self time:"]
    lines += [f"  {100 * n / total:5.1f} %  {frame}" for frame, n in own.most_common(count)]
    lines.append("inclusive:")
    lines += [f"  {100 * n / total:5.1f} %  {frame}" for frame, n in inclusive.most_common(count * 2)]
    return "\n".join(lines)
