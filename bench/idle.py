"""Idle connections survive: hold N quiet clients on the hub and count closes by the server.

    python bench/idle.py [--clients 1000] [--minutes 10] [--setup hub|hub-daphne] [--json FILE]

The clients answer the server's protocol-level pings, as browsers do, and send nothing
else. Prints RSS per connection and how many the server closed (the target is none).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadclient import Tally, open_connections  # noqa: E402
from bench.servers import SETUPS, Servers, environment  # noqa: E402


async def hold(clients: int, minutes: float, setup: str, env: dict[str, str]) -> dict:
    servers = Servers(setup, env).start()
    try:
        before = servers.rss_kb()
        tally = Tally()
        connections = await open_connections("127.0.0.1", servers.ports, "hub", clients, "chat.bench", tally)
        await asyncio.sleep(2)  # settle
        per_connection = (servers.rss_kb() - before) / clients
        print(f"{clients} clients connected; RSS {per_connection:.1f} KB per connection")
        deadline = time.monotonic() + minutes * 60
        while time.monotonic() < deadline:
            await asyncio.sleep(10)  # report every 10 s while holding
            lost = sum(1 for c in connections if c.transport.is_closing()) + tally.closed
            print(
                f"{(minutes * 60 - (deadline - time.monotonic())) / 60:.1f} min: closed by server: {lost}", flush=True
            )
        lost = sum(1 for c in connections if c.transport.is_closing()) + tally.closed
        print(f"held {clients} idle clients for {minutes} min on {setup}: {lost} closed by the server")
        return {"setup": setup, "N": clients, "RSS KB/conn": round(per_connection, 1), "closed": lost}
    finally:
        servers.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--setup", default="hub", choices=[s for s in SETUPS if s.startswith("hub")])
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    with environment("bench-idle") as env:
        row = asyncio.run(hold(args.clients, args.minutes, args.setup, env))
    if args.json:
        (ROOT / args.json).write_text(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
