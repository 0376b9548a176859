"""Reconnect storm: N subscribed hub clients, the server SIGKILLed and restarted while events flow.

    python bench/storm.py [--clients 5000] [--rate 50] [--topics 1] [--window 60] [--handshake-timeout 30]

N clients subscribe (``--topics`` > 1 spreads them evenly over that many topics, each
event going to one of them), a publisher process sends ``--rate`` events/s through the
hub's API, and after ``--warmup`` seconds the server process is SIGKILLed and started
again on the same port. Every client then does what the bundled clients do: reconnect
with backoff and full jitter (hub.js: a random delay up to 0.5 s doubling to 15 s), and
resubscribe with ``since`` = the id of the last event it got, so the hub replays what it
missed (or sends ``reset`` where history cannot reach back).

A client is *caught up* when it is connected and has the latest event published to its
topic at least ``--lag`` seconds ago. Printed: seconds from the kill until all clients
are back connected and until all are caught up, events lost silently (a gap in ``seq``
with no ``reset`` before it), events skipped after a ``reset``, resets, failed connect
attempts, and the new server's CPU time until recovery.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadclient import _SEQ, PATHS, Connection, Tally, handshake, ready  # noqa: E402
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

_ID = re.compile(rb'"id":\s*"(\d+-\d+)"')
_POSITION = re.compile(rb'"position":\s*"(\d+-\d+)"')


@dataclass
class Client:
    """One simulated browser tab, across its connections."""

    index: int
    topic: str
    k: int  # its topic's index: it gets the events whose seq % topics == k
    step: int  # the number of topics
    top: int = -1  # the highest seq received
    last_id: str | None = None
    connected: bool = False
    reset_pending: bool = False
    resets: int = 0
    lost: int = 0  # events skipped with no reset before them
    skipped_after_reset: int = 0
    duplicates: int = 0
    failures: int = 0
    drops: int = 0
    phase: str = "new"  # new, tcp, handshake, live, backoff

    def __post_init__(self) -> None:
        self.top = self.k - self.step


class StormConnection(Connection):
    """A load-client connection that keeps its client's position and counts gaps and resets."""

    client: Client

    def on_event(self, payload: bytes, now: float) -> None:
        client, seq = self.client, int(_SEQ.search(payload).group(1))
        self.tally.deliveries += 1
        self.tally.last_at = now
        if seq <= client.top:
            client.duplicates += 1
            return
        gap = (seq - client.top) // client.step - 1
        if gap > 0:
            if client.reset_pending:
                client.skipped_after_reset += gap
            else:
                client.lost += gap
        client.reset_pending = False
        client.top = seq
        found = _ID.search(payload)
        if found:
            client.last_id = found.group(1).decode()

    def on_frame(self, payload: bytes) -> None:
        if b'"reset"' in payload:
            self.client.resets += 1
            self.client.reset_pending = True
        super().on_frame(payload)


def backoff(attempt: int) -> float:
    """hub.js' delay before reconnect attempt ``attempt``: full jitter up to 0.5 s doubling, capped at 15 s."""
    return random.random() * min(15.0, 0.5 * 2**attempt)


async def life(client: Client, port: int, tally: Tally, gate: asyncio.Semaphore, stop: asyncio.Event,
               handshake_timeout: float) -> None:  # fmt: skip
    """Keep ``client`` connected and subscribed until ``stop``, as a bundled client does."""
    loop = asyncio.get_running_loop()
    attempt, first = 0, True
    while not stop.is_set():
        conn = None
        try:
            if first:
                await gate.acquire()  # the initial crowd connects a few hundred at a time
            client.phase = "tcp"
            _transport, conn = await loop.create_connection(
                lambda: StormConnection(client.index, tally, False), "127.0.0.1", port
            )
            conn.client = client
            conn.transport.write(handshake("127.0.0.1", port, PATHS["hub"]))
            client.phase = "handshake"
            reply = await ready(conn, "hub", client.topic, since=client.last_id, timeout=handshake_timeout)
        except (OSError, ConnectionError, TimeoutError):
            client.failures += 1
            client.phase = "backoff"
            if conn is not None:
                conn.transport.close()
            await asyncio.sleep(backoff(attempt))  # backoff between attempts, as the bundled clients do
            attempt += 1
            continue
        finally:
            if first:
                first = False
                gate.release()
        if client.last_id is None:
            found = _POSITION.search(reply)
            client.last_id = found.group(1).decode() if found else None
        attempt, client.connected, client.phase = 0, True, "live"
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait([conn.lost, stopped], return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        client.connected = False
        if stop.is_set():
            conn.transport.close()
            return
        client.drops += 1
        client.phase = "backoff"
        await asyncio.sleep(backoff(attempt))  # backoff between attempts, as the bundled clients do
        attempt += 1


class Published:
    """The publisher's output: when each seq went out, per topic."""

    def __init__(self, topics: int):
        self.by_topic: list[list[tuple[float, int]]] = [[] for _ in range(topics)]
        self.topics = topics
        self.count = 0

    async def read(self, stream: asyncio.StreamReader) -> None:
        """Read the publisher's lines until it ends."""
        while line := await stream.readline():
            record = json.loads(line)
            if "seq" in record:
                self.by_topic[record["seq"] % self.topics].append((record["at"], record["seq"]))
                self.count += 1

    def latest(self, k: int, before: float) -> int | None:
        """Return the latest seq of topic ``k`` published before ``before`` (None if none)."""
        found = None
        for at, seq in reversed(self.by_topic[k]):
            if at <= before:
                found = seq
                break
        return found


async def storm(args: argparse.Namespace, env: dict[str, str]) -> dict:
    """Run one storm; return its figures."""
    base = f"chat.storm{int(time.time())}"
    topics = [base if args.topics == 1 else f"{base}{k}" for k in range(args.topics)]
    servers = Servers("hub", env).start()
    port = servers.ports[0]
    tally, stop = Tally(), asyncio.Event()
    clients = [Client(i, topics[i % args.topics], i % args.topics, args.topics) for i in range(args.clients)]
    gate = asyncio.Semaphore(200)
    began = time.perf_counter()
    lives = [asyncio.ensure_future(life(c, port, tally, gate, stop, args.handshake_timeout)) for c in clients]
    while sum(c.connected for c in clients) < args.clients:
        await asyncio.sleep(0.2)  # waiting for the initial crowd, sampled
        if time.perf_counter() - began > 600:
            raise RuntimeError("the clients could not all connect")
    connect_s = time.perf_counter() - began
    duration = args.warmup + args.window
    publisher = await asyncio.create_subprocess_exec(
        *publisher_command(SETUPS["hub"], 0, args.rate, ["--topic", base, "--topics", str(args.topics),
                                                         "--seconds", str(duration)]),
        cwd=ROOT, env=servers.env, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    published = Published(args.topics)
    reader = asyncio.ensure_future(published.read(publisher.stdout))
    await asyncio.sleep(args.warmup)
    before_kill = {"connected": sum(c.connected for c in clients), "caught up": _caught_up(clients, published, args)}
    killed_at = time.time()
    servers.kill()
    # Started from a thread: the clients' loop keeps running (and failing to connect) meanwhile.
    servers = await asyncio.to_thread(Servers("hub", env, ports=[port]).start)
    restarted_s = time.time() - killed_at
    spy = None
    if args.profile:
        spy = await start_profiler(servers.processes[0].pid, Path("/tmp/bench-storm.txt"))
    all_connected = all_caught_up = None
    cpu_at_recovery = None
    timeline = []
    while publisher.returncode is None and time.time() - killed_at < args.window:
        await asyncio.sleep(0.5)  # sampling the clients' state
        now = time.time() - killed_at
        connected, caught = sum(c.connected for c in clients), _caught_up(clients, published, args)
        timeline.append((round(now, 1), connected, caught))
        if all_connected is None and connected == args.clients:
            all_connected = now
        if all_caught_up is None and caught == args.clients:
            all_caught_up, cpu_at_recovery = now, servers.cpu_seconds()
    cpu_window = servers.cpu_seconds()
    if spy is not None:
        stop_profiler(spy)
        print(top_of_profile(Path("/tmp/bench-storm.txt")), flush=True)
    behind = Counter(c.phase for c in clients if not c.connected)
    await publisher.wait()
    await reader
    await asyncio.sleep(3)  # the last events in flight
    stop.set()
    await asyncio.gather(*lives)
    servers.stop()
    tail_missing = 0
    for client in clients:
        last = published.latest(client.k, float("inf"))
        if last is not None and last > client.top:
            tail_missing += (last - client.top) // client.step
    for step in timeline[:: max(1, len(timeline) // 12)]:
        print(f"  t={step[0]:5.1f} s  connected {step[1]:5d}  caught up {step[2]:5d}", flush=True)
    return {
        "N": args.clients,
        "topics": args.topics,
        "events/s": args.rate,
        "connect s": round(connect_s, 1),
        "before kill caught up": before_kill["caught up"],
        "restart s": round(restarted_s, 1),
        "all connected s": _round(all_connected),
        "all caught up s": _round(all_caught_up),
        "lost silently": sum(c.lost for c in clients),
        "missing at end": tail_missing,
        "skipped after reset": sum(c.skipped_after_reset for c in clients),
        "resets": sum(c.resets for c in clients),
        "dups": sum(c.duplicates for c in clients),
        "failed attempts": sum(c.failures for c in clients),
        "closes": tally.closed,
        "CPU s to recover": _round(cpu_at_recovery),
        "CPU s in window": round(cpu_window, 1),
        "published": published.count,
        "not back at end": dict(behind) or None,
    }


def _caught_up(clients: list[Client], published: Published, args: argparse.Namespace) -> int:
    horizon = time.time() - args.lag
    latest = [published.latest(k, horizon) for k in range(args.topics)]
    return sum(1 for c in clients if c.connected and (latest[c.k] is None or c.top >= latest[c.k]))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=50, help="events per second, all topics together")
    parser.add_argument("--topics", type=int, default=1)
    parser.add_argument("--warmup", type=float, default=10, help="seconds of events before the kill")
    parser.add_argument("--window", type=float, default=60, help="seconds measured after the kill")
    parser.add_argument("--lag", type=float, default=1.0, help="a client is caught up with events this old")
    parser.add_argument("--handshake-timeout", type=float, default=30)
    parser.add_argument("--profile", action="store_true", help="py-spy the restarted server over the window")
    parser.add_argument("--json", help="also write the row to this file")
    args = parser.parse_args()
    with environment("bench-storm") as env:
        row = asyncio.run(storm(args, env))
    print(json.dumps(row), flush=True)
    print(table([row]))
    if args.json:
        (ROOT / args.json).write_text(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
