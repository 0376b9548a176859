"""What permessage-deflate costs the hub: memory per connection and CPU per delivery, on and off.

    python bench/compression.py [--clients 1000] [--events 100]

Browsers offer permessage-deflate on every websocket, and Uvicorn accepts it by default;
the load client of the other scripts does not offer it. Here the clients are the
``websockets`` library's, which offer it as browsers do. The hub is served twice, with
``HUB_WEBSOCKET_COMPRESSION`` false (the default) and true; each time N clients subscribe
to one topic and ``--events`` events are published at 20/s. Printed: what was negotiated,
the server's RSS growth per subscribed connection, and its CPU µs per delivery.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import websockets  # noqa: E402

from bench.servers import ROOT, SETUPS, Servers, environment, publisher_command, table  # noqa: E402


async def run(compression: bool, clients: int, events: int, env: dict[str, str]) -> dict:
    """Serve the hub with compression on or off; return its figures for ``clients`` subscribers."""
    servers = Servers("hub", {**env, "HUB_WEBSOCKET_COMPRESSION": str(compression).lower()}).start()
    url = f"ws://127.0.0.1:{servers.ports[0]}/ws/?batch=1"
    sockets = []
    try:
        async with websockets.connect(url) as probe:
            negotiated = probe.response.headers.get("Sec-WebSocket-Extensions") or "none"
        rss_before = servers.rss_kb()
        for _ in range(clients):
            socket = await websockets.connect(url, max_queue=None)
            await socket.recv()  # hello
            await socket.send(json.dumps({"type": "subscribe", "topic": "chat.bench"}))
            while "subscribed" not in str(await socket.recv()):
                pass
            sockets.append(socket)
        rss_after = servers.rss_kb()
        cpu_before = servers.cpu_seconds()
        publisher = publisher_command(SETUPS["hub"], events, 20)
        await asyncio.to_thread(subprocess.run, publisher, cwd=ROOT, env=servers.env, check=True, capture_output=True)
        counts = await asyncio.gather(*(_events_received(socket, events) for socket in sockets))
        delivered = sum(counts)
        return {
            "HUB_WEBSOCKET_COMPRESSION": compression,
            "negotiated": negotiated.split(";")[0],
            "N": clients,
            "RSS KB/conn": round((rss_after - rss_before) / clients, 1),
            "delivered": delivered,
            "CPU µs/delivery": round(1e6 * (servers.cpu_seconds() - cpu_before) / max(delivered, 1), 1),
        }
    finally:
        for socket in sockets:
            await socket.close()
        servers.stop()


async def _events_received(socket: websockets.ClientConnection, expected: int) -> int:
    """Read until ``expected`` event frames came (or 10 s passed without one); return how many."""
    count = 0
    while count < expected:
        try:
            message = await asyncio.wait_for(socket.recv(), 10)
        except (TimeoutError, websockets.ConnectionClosed):
            break
        count += str(message).count('"type":"event"')
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100)
    args = parser.parse_args()
    with environment("bench-compression") as env:
        rows = [asyncio.run(run(compression, args.clients, args.events, env)) for compression in (False, True)]
    print(table(rows))


if __name__ == "__main__":
    main()
