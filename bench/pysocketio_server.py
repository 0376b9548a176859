"""The python-socketio peer: an ``AsyncServer`` with ``AsyncRedisManager``, served by Uvicorn.

    REDIS_URL=redis://... python -m uvicorn bench.pysocketio_server:application --port PORT

Every socket enters the room ``bench`` on connect; ``bench/publisher.py pysocketio`` emits
to that room from another process through Redis (a write-only ``RedisManager``).
"""

import os

import socketio

manager = socketio.AsyncRedisManager(os.environ["REDIS_URL"], channel="bench-socketio")
server = socketio.AsyncServer(async_mode="asgi", client_manager=manager, transports=["websocket"])
application = socketio.ASGIApp(server)


@server.event
async def connect(sid: str, environ: dict) -> None:
    """Put each new socket in the benchmark's room."""
    await server.enter_room(sid, "bench")
