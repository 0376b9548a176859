"""Idle connections survive: hold N quiet clients on the hub and count closes by the server.

    python bench/idle.py [--clients 1000] [--minutes 10] [--server uvicorn|daphne]

The clients answer the server's protocol-level pings, as browsers do, and send nothing
else. Prints RSS per connection and how many the server closed (the target is none).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fanout import PY, SETUPS, _rss_kb, _stop, start_server  # noqa: E402
from bench.loadclient import Tally, open_connections  # noqa: E402
from notifications.embedded_redis import EmbeddedRedis  # noqa: E402


async def hold(clients: int, minutes: float, setup: str, env: dict[str, str]) -> None:
    _command, _settings, path, topic, _kind = SETUPS[setup]
    server, port = start_server(setup, env)
    try:
        before = _rss_kb(server.pid)
        tally = Tally()
        connections = await open_connections("127.0.0.1", port, path, clients, topic, tally)
        await asyncio.sleep(2)  # settle
        print(f"{clients} clients connected; RSS {(_rss_kb(server.pid) - before) / clients:.1f} KB per connection")
        deadline = time.monotonic() + minutes * 60
        while time.monotonic() < deadline:
            await asyncio.sleep(10)  # report every 10 s while holding
            lost = sum(1 for c in connections if c.transport.is_closing()) + tally.closed
            print(
                f"{(minutes * 60 - (deadline - time.monotonic())) / 60:.1f} min: closed by server: {lost}", flush=True
            )
        lost = sum(1 for c in connections if c.transport.is_closing()) + tally.closed
        print(f"held {clients} idle clients for {minutes} min on {setup}: {lost} closed by the server")
    finally:
        _stop(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--setup", default="hub-uvicorn", choices=[s for s in SETUPS if s.startswith("hub")])
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    env = {**os.environ, "HUB_REDIS_PREFIX": "bench-idle", "DJANGO_DEBUG": "false", "PYTHONPATH": str(ROOT)}
    env.setdefault("DATABASE_URL", f"sqlite:///{ROOT / '.hub' / 'bench.sqlite3'}")
    redis = None
    if not env.get("REDIS_URL"):
        redis = EmbeddedRedis(ROOT / ".hub" / "bench-idle-redis")
        env["REDIS_URL"] = redis.start()
    try:
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True,
                       env={**env, "DJANGO_SETTINGS_MODULE": "settings.local"})  # fmt: skip
        asyncio.run(hold(args.clients, args.minutes, args.setup, env))
    finally:
        if redis is not None:
            redis.stop()


if __name__ == "__main__":
    main()
