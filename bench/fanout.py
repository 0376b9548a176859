"""Fan-out benchmark: the hub beside Socket.IO (Node), python-socketio and a raw reference.

    python bench/fanout.py [--clients 1000 5000] [--setups hub socketio raw pysocketio hub-x2] [--repeat 2]
    python bench/fanout.py --latency --setups hub   # 20 events/s to 1000 clients for 60 s

Each run starts the server(s), connects N clients from one load-client process (this one),
timing the connects, then has a publisher in another process send a burst through each
setup's own producer path (through Redis). Server CPU is the server process tree's own
user+system time (``/proc/<pid>/stat``) over the burst, divided by the deliveries. The
table gives each figure's ratio to Socket.IO's at the same N, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadclient import Tally, open_connections, percentile  # noqa: E402
from bench.servers import (  # noqa: E402
    ROOT,
    SETUPS,
    Servers,
    environment,
    publisher_command,
    start_profiler,
    stop_profiler,
    table,
    top_of_profile,
)


async def run(name: str, clients: int, events: int, rate: float, env: dict[str, str],
              profile: Path | None = None) -> dict:  # fmt: skip
    """Run setup ``name`` with ``clients`` connections and ``events`` events; return its figures."""
    setup = SETUPS[name]
    env = {**env, "HUB_QUEUE_SIZE": str(events + 100)}
    servers = Servers(name, env).start()
    try:
        rss_before, cpu_before = servers.rss_kb(), servers.cpu_seconds()
        tally = Tally()
        began = time.perf_counter()
        topic = "chat.bench" if setup.kind == "hub" else None
        connections = await open_connections("127.0.0.1", servers.ports, setup.kind, clients, topic, tally,
                                             path=setup.path)  # fmt: skip
        connect_s = time.perf_counter() - began
        connect_cpu = servers.cpu_seconds() - cpu_before
        await asyncio.sleep(1)  # let the server settle after the connection storm
        rss_per_connection = (servers.rss_kb() - rss_before) / max(len(connections), 1)
        spy = await start_profiler(servers.processes[0].pid, profile) if profile is not None else None
        cpu_before = servers.cpu_seconds()
        started = time.time()
        publisher = await asyncio.create_subprocess_exec(
            *publisher_command(setup, events, rate), cwd=ROOT, env={**servers.env}, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        expected = len(connections) * events
        last_count, quiet_since = -1, time.monotonic()
        while tally.deliveries < expected:
            await asyncio.sleep(0.05)  # sampling the tally; ends when all arrived or 5 s pass with none
            if tally.deliveries != last_count:
                last_count, quiet_since = tally.deliveries, time.monotonic()
            elif time.monotonic() - quiet_since > 5 and publisher.returncode is not None:
                break
        publish_cost = json.loads((await publisher.communicate())[0].splitlines()[-1] or b"{}")
        cpu_seconds = servers.cpu_seconds() - cpu_before
        if spy is not None:
            stop_profiler(spy)
            print(top_of_profile(profile), flush=True)
        elapsed = max(tally.last_at - started, 1e-6)
        for connection in connections:
            connection.transport.close()
        return {
            "setup": name,
            "N": clients,
            "deliveries/s": round(tally.deliveries / elapsed),
            "lost %": round(100 * (expected - tally.deliveries) / max(expected, 1), 2),
            "CPU µs/delivery": round(1e6 * cpu_seconds / max(tally.deliveries, 1), 1),
            "connect s": round(connect_s, 2),
            "CPU ms/connect": round(1e3 * connect_cpu / max(len(connections), 1), 2),
            "failed": tally.failed,
            "RSS KB/conn": round(rss_per_connection, 1),
            "p50 ms": _round(percentile(tally.latencies, 0.50)),
            "p99 ms": _round(percentile(tally.latencies, 0.99)),
            "dup/order": f"{tally.duplicates}/{tally.out_of_order}",
            "publish ms": _round(publish_cost.get("median_ms")),
            "closed": tally.closed,
        }
    finally:
        servers.stop()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def with_ratios(rows: list[dict]) -> list[dict]:
    """Return ``rows`` with each figure's ratio to the Socket.IO row of the same N and repetition."""
    out = []
    for row in rows:
        peer = next((r for r in rows if r["setup"] == "socketio" and r["N"] == row["N"] and r["rep"] == row["rep"]),
                    None)  # fmt: skip
        ratio = {}
        for column, label in (("deliveries/s", "× SIO deliv"), ("CPU µs/delivery", "× SIO CPU"),
                              ("connect s", "× SIO connect")):  # fmt: skip
            ratio[label] = round(row[column] / peer[column], 2) if peer and peer[column] else None
        out.append({**row, **ratio})
    return out


def process_ratios(rows: list[dict]) -> list[str]:
    """Return lines comparing each two-process setup with the one-process setup at the same N."""
    lines = []
    for row in rows:
        for many, one in (("hub-x2", "hub"), ("hub-workers2", "hub"), ("socketio-x2", "socketio")):
            if row["setup"] != many:
                continue
            base = next((r for r in rows if r["setup"] == one and r["N"] == row["N"] and r["rep"] == row["rep"]), None)
            if base and base["deliveries/s"]:
                lines.append(f"N={row['N']} rep {row['rep']}: {many} / {one} = "
                             f"{row['deliveries/s'] / base['deliveries/s']:.2f}x deliveries/s "
                             f"(lost {row['lost %']} % / {base['lost %']} %)")  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--setups", nargs="+", default=["hub", "hub-unbatched", "socketio", "raw", "pysocketio", "hub-x2"],
                        choices=list(SETUPS))  # fmt: skip
    parser.add_argument("--deliveries", type=int, default=200_000, help="target deliveries per run (burst mode)")
    parser.add_argument("--repeat", type=int, default=1, help="repetitions, interleaved")
    parser.add_argument("--latency", action="store_true", help="20 events/s to 1000 clients for 60 s instead")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--profile", action="store_true", help="py-spy the (first) hub process over each burst")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    rows = []
    with environment("bench") as env:
        for rep in range(1, args.repeat + 1):
            for clients in args.clients if not args.latency else [1000]:
                for name in args.setups:
                    if args.latency:
                        row = asyncio.run(run(name, clients, 20 * args.seconds, 20, env))
                    else:
                        profile = Path(f"/tmp/bench-fanout-{name}-{clients}.txt") if args.profile and name.startswith(
                            "hub") else None  # fmt: skip
                        row = asyncio.run(run(name, clients, max(20, args.deliveries // clients), 0, env, profile))
                    row = {"rep": rep, **row}
                    rows.append(row)
                    print(json.dumps(row, ensure_ascii=False), flush=True)
    rows = with_ratios(rows)
    print()
    print(table(rows))
    print()
    print("\n".join(process_ratios(rows)))
    if args.json:
        (ROOT / args.json).write_text(json.dumps(rows, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
