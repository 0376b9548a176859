"""The raw reference: a bare ``websockets`` server, one Redis SUBSCRIBE, ``websockets.broadcast``."""

import asyncio
import os
import sys

import redis.asyncio as aioredis
import websockets

CLIENTS: set = set()


async def handler(socket: websockets.ServerConnection) -> None:
    CLIENTS.add(socket)
    try:
        await socket.wait_closed()
    finally:
        CLIENTS.discard(socket)


async def relay() -> None:
    pubsub = aioredis.Redis.from_url(os.environ["REDIS_URL"]).pubsub()
    await pubsub.subscribe("bench-raw")
    async for message in pubsub.listen():
        if message["type"] == "message":
            websockets.broadcast(CLIENTS, message["data"].decode())


async def main(port: int) -> None:
    async with websockets.serve(handler, "127.0.0.1", port, compression=None):
        await relay()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
