"""Fan-out benchmark: the hub, the Channels tutorial approach and a raw reference, side by side.

    python bench/fanout.py [--clients 100 1000 5000] [--setups hub-uvicorn hub-daphne tutorial raw]
    python bench/fanout.py --latency          # 20 events/s to 1000 clients for 60 s

Each run starts the server in its own process, connects N clients from one load-client
process (this one), and publishes from a third process through each setup's own producer
path. Figures depend on the machine: run them side by side, in one go, and compare ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadclient import Tally, open_connections, percentile  # noqa: E402
from notifications.embedded_redis import EmbeddedRedis, free_port  # noqa: E402

PY = sys.executable
TICKS = os.sysconf("SC_CLK_TCK")

SETUPS = {
    "hub-uvicorn": ([PY, "-m", "uvicorn", "hub.asgi:application", "--host", "127.0.0.1", "--port", "{port}",
                     "--ws", "websockets-sansio", "--lifespan", "off", "--no-access-log", "--log-level", "warning"],
                    "settings.local", "/ws/", "chat.bench", "hub"),
    "hub-daphne": ([PY, "-m", "daphne", "-b", "127.0.0.1", "-p", "{port}", "-v", "0", "hub.asgi:application"],
                   "settings.local", "/ws/", "chat.bench", "hub"),
    "tutorial": ([PY, "-m", "daphne", "-b", "127.0.0.1", "-p", "{port}", "-v", "0", "bench.tutorial:application"],
                 "bench.tutorial_settings", "/ws/tutorial/", None, "tutorial"),
    "tutorial-pubsub-uvicorn": ([PY, "-m", "uvicorn", "bench.tutorial:application", "--host", "127.0.0.1", "--port",
                                 "{port}", "--ws", "websockets-sansio", "--lifespan", "off", "--no-access-log",
                                 "--log-level", "warning"],
                                "bench.tutorial_pubsub_settings", "/ws/tutorial/", None, "tutorial"),
    "raw": ([PY, "bench/raw_server.py", "{port}"], "settings.local", "/", None, "raw"),
}  # fmt: skip


def start_server(setup: str, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    """Start ``setup``'s server on a free port (stderr to /tmp/bench-<setup>.log); return it once it listens."""
    command, settings_module, _path, _topic, _kind = SETUPS[setup]
    port = free_port()
    with open(f"/tmp/bench-{setup}.log", "w") as log:
        server = subprocess.Popen(
            [part.replace("{port}", str(port)) for part in command], cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": settings_module}, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    _wait_port(port, server)
    return server, port


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _wait_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)  # polling for the server's port, bounded
    raise RuntimeError("server did not open its port")


async def run(setup: str, clients: int, events: int, rate: float, env: dict[str, str]) -> dict:
    """Run one setup with ``clients`` connections and ``events`` events; return its figures."""
    _command, settings_module, path, topic, kind = SETUPS[setup]
    env = {**env, "DJANGO_SETTINGS_MODULE": settings_module, "HUB_QUEUE_SIZE": str(events + 100)}
    server, port = start_server(setup, env)
    try:
        rss_before = _rss_kb(server.pid)
        tally = Tally()
        connections = await open_connections("127.0.0.1", port, path, clients, topic, tally)
        await asyncio.sleep(1)  # let the server settle after the connection storm
        rss_per_connection = (_rss_kb(server.pid) - rss_before) / clients
        cpu_before = _cpu_ticks(server.pid)
        started = time.time()
        publisher = await asyncio.create_subprocess_exec(
            PY, "bench/publisher.py", kind, "--events", str(events), "--rate", str(rate),
            cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        expected = clients * events
        last_count, quiet_since = -1, time.monotonic()
        while tally.deliveries < expected:
            await asyncio.sleep(0.05)  # sampling the tally; ends when all arrived or 5 s pass with none
            if tally.deliveries != last_count:
                last_count, quiet_since = tally.deliveries, time.monotonic()
            elif time.monotonic() - quiet_since > 5 and publisher.returncode is not None:
                break
        publish_cost = json.loads((await publisher.communicate())[0] or b"{}")
        cpu_seconds = (_cpu_ticks(server.pid) - cpu_before) / TICKS
        elapsed = max(tally.last_at - started, 1e-6)
        for connection in connections:
            connection.transport.close()
        return {
            "setup": setup,
            "clients": clients,
            "events": events,
            "deliveries_per_s": round(tally.deliveries / elapsed),
            "lost_pct": round(100 * (expected - tally.deliveries) / expected, 1),
            "duplicates": tally.duplicates,
            "out_of_order": tally.out_of_order,
            "p50_ms": _round(percentile(tally.latencies, 0.50)),
            "p95_ms": _round(percentile(tally.latencies, 0.95)),
            "p99_ms": _round(percentile(tally.latencies, 0.99)),
            "cpu_us_per_delivery": round(1e6 * cpu_seconds / max(tally.deliveries, 1), 1),
            "rss_kb_per_connection": round(rss_per_connection, 1),
            "publish_median_ms": _round(publish_cost.get("median_ms")),
            "closed_by_server": tally.closed,
        }
    finally:
        _stop(server)


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _table(rows: list[dict]) -> str:
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    lines = [" | ".join(c.ljust(widths[c]) for c in columns), "-+-".join("-" * widths[c] for c in columns)]
    lines += [" | ".join(str(r[c]).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def _ratios(rows: list[dict]) -> list[str]:
    lines = []
    for clients in sorted({r["clients"] for r in rows}):
        by_setup = {r["setup"]: r for r in rows if r["clients"] == clients}
        hub = max(
            (by_setup[s] for s in by_setup if s.startswith("hub")), key=lambda r: r["deliveries_per_s"], default=None
        )
        if hub is None:
            continue
        for other in ("tutorial", "tutorial-pubsub-uvicorn", "raw"):
            if other in by_setup and by_setup[other]["deliveries_per_s"]:
                ratio = hub["deliveries_per_s"] / by_setup[other]["deliveries_per_s"]
                lines.append(f"N={clients}: {hub['setup']} / {other} = {ratio:.2f}x deliveries/s")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--setups", nargs="+", default=list(SETUPS), choices=list(SETUPS))
    parser.add_argument("--deliveries", type=int, default=200_000, help="target deliveries per run (burst mode)")
    parser.add_argument("--latency", action="store_true", help="20 events/s to 1000 clients for 60 s instead")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    redis = None
    env = {**os.environ, "HUB_REDIS_PREFIX": "bench", "DJANGO_DEBUG": "false", "PYTHONPATH": str(ROOT)}
    env.setdefault("DATABASE_URL", f"sqlite:///{ROOT / '.hub' / 'bench.sqlite3'}")
    if not env.get("REDIS_URL"):
        redis = EmbeddedRedis(ROOT / ".hub" / "bench-redis")
        env["REDIS_URL"] = redis.start()
    subprocess.run(
        [PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True,
        env={**env, "DJANGO_SETTINGS_MODULE": "settings.local"},
    )  # fmt: skip
    rows = []
    try:
        for clients in args.clients if not args.latency else [1000]:
            for setup in args.setups:
                if args.latency:
                    row = asyncio.run(run(setup, clients, 20 * args.seconds, 20, env))
                else:
                    row = asyncio.run(run(setup, clients, max(20, args.deliveries // clients), 0, env))
                rows.append(row)
                print(json.dumps(row), flush=True)
    finally:
        if redis is not None:
            redis.stop()
    print()
    print(_table(rows))
    print()
    print("\n".join(_ratios(rows)))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
