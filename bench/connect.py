"""Connect rate: how long N clients take to connect and get their first frame, per server process.

    python bench/connect.py [--clients 1000 5000] [--setups hub hub-token hub-session socketio raw] [--concurrency 200]
    python bench/connect.py --clients 2000 --setups hub-token --profile   # py-spy the hub while it accepts

For the hub the first frame is ``hello`` (accept, authenticate, join the user's and the
broadcast streams, read their positions); ``hub-token`` clients are signed-in users, one
distinct user each, with a token in ``Sec-WebSocket-Protocol``; ``hub-session`` clients are
signed-in browsers, one distinct user each, with a session cookie and an Origin. For Socket.IO it is the
namespace's ``40{...}`` reply (the socket has joined its room); for the raw reference the
101 answer. The load client keeps ``--concurrency`` handshakes in flight, as a crowd of
reconnecting browsers would. Server CPU is the server's own (``/proc``) over the connects.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadclient import Tally, open_connections, percentile  # noqa: E402
from bench.servers import (  # noqa: E402
    PY,
    ROOT,
    SETUPS,
    Servers,
    environment,
    start_profiler,
    stop_profiler,
    table,
    top_of_profile,
)

VARIANTS = {
    "hub": "hub",
    "hub-token": "hub",
    "hub-session": "hub",
    "socketio": "socketio",
    "raw": "raw",
    "pysocketio": "pysocketio",
}


async def run(variant: str, clients: int, concurrency: int, env: dict[str, str], signed_in: dict[str, list[str]],
              profile: Path | None) -> dict:  # fmt: skip
    """Connect ``clients`` clients to a fresh server of ``variant``; return the figures.

    ``signed_in`` is ``open_connections``' ``tokens=`` or ``sessions=`` (or nothing: visitors).
    """
    name = VARIANTS[variant]
    setup = SETUPS[name]
    servers = Servers(name, env).start()
    spy = None
    try:
        tally = Tally()
        warm = await open_connections("127.0.0.1", servers.ports, setup.kind, 1, None, Tally(), **signed_in)
        for conn in warm:  # one connection first: imports and caches filled on first use are not the crowd's
            conn.transport.close()
        if profile is not None:
            spy = await start_profiler(servers.processes[0].pid, profile)
        cpu_before = servers.cpu_seconds()
        began = time.perf_counter()
        connections = await open_connections("127.0.0.1", servers.ports, setup.kind, clients, None, tally,
                                             concurrency=concurrency, **signed_in)  # fmt: skip
        elapsed = time.perf_counter() - began
        cpu = servers.cpu_seconds() - cpu_before
        if spy is not None:
            stop_profiler(spy)
        for conn in connections:
            conn.transport.close()
        return {
            "setup": variant,
            "N": clients,
            "all ready s": round(elapsed, 2),
            "conn/s": round(len(connections) / elapsed),
            "p50 s": round(percentile(tally.connect_times, 0.5) or 0, 3),
            "p99 s": round(percentile(tally.connect_times, 0.99) or 0, 3),
            "failed": tally.failed,
            "CPU ms/connect": round(1e3 * cpu / max(len(connections), 1), 2),
            "server CPU %": round(100 * cpu / elapsed),
        }
    finally:
        servers.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument(
        "--setups", nargs="+", default=["hub", "hub-token", "hub-session", "socketio", "raw"], choices=list(VARIANTS)
    )
    parser.add_argument("--concurrency", type=int, default=200, help="handshakes in flight at once")
    parser.add_argument("--profile", action="store_true", help="py-spy the (first) hub process while it accepts")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    rows = []
    with environment("bench-connect") as env:
        signed_in: dict[str, dict[str, list[str]]] = {}
        for variant, kind in (("hub-token", "tokens"), ("hub-session", "sessions")):
            if variant in args.setups:
                made = subprocess.run(
                    [PY, "bench/users.py", str(max(args.clients) + 1)] + (["--sessions"] if kind == "sessions" else []),
                    cwd=ROOT, check=True, capture_output=True, env={**env, "DJANGO_SETTINGS_MODULE": "settings.local"},
                )  # fmt: skip
                signed_in[variant] = {kind: json.loads(made.stdout)}
        for clients in args.clients:
            for variant in args.setups:
                profile = None
                if args.profile and variant.startswith("hub"):
                    profile = Path(f"/tmp/bench-connect-{variant}-{clients}.txt")
                row = asyncio.run(run(variant, clients, args.concurrency, env, signed_in.get(variant, {}), profile))
                rows.append(row)
                print(json.dumps(row), flush=True)
                if profile is not None and profile.exists():
                    print(top_of_profile(profile), flush=True)
    print()
    print(table(rows))
    if args.json:
        (ROOT / args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
