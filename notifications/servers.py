"""Serve the hub with the bounds that the servers' own command lines cannot set.

    python -m notifications.servers uvicorn mysite.asgi:application --host 0.0.0.0 --port 8000 \\
        [--forwarded-allow-ips 10.0.0.2]
    python -m notifications.servers daphne mysite.asgi:application --host 127.0.0.1 --port 8000

Both refuse a websocket frame above ``HUB_MAX_FRAME_BYTES`` from its header, before its
payload is read, and drop a connection whose HTTP request (a websocket handshake
included) is not complete within ``HANDSHAKE_TIMEOUT`` seconds. Uvicorn runs its
``websockets-sansio`` protocol, whose backpressure the hub's slow-client bound needs, in
the leaner form of :mod:`notifications.uvicorn_protocol` (less memory per connection).
docs/operations.md shows where each is used.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import Any

__all__ = ["HANDSHAKE_TIMEOUT", "main"]

HANDSHAKE_TIMEOUT = 5.0  # seconds from connect to a complete request line and headers

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until stopped."""
    parser = argparse.ArgumentParser(prog="python -m notifications.servers", description=__doc__.splitlines()[0])
    parser.add_argument("server", choices=["uvicorn", "daphne"])
    parser.add_argument("application", help="the ASGI application, as module:attribute")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="Uvicorn worker processes sharing the port")
    parser.add_argument(
        "--forwarded-allow-ips", default=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        help="proxies whose X-Forwarded-* headers are trusted (never '*'); default 127.0.0.1",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if "*" in args.forwarded_allow_ips:
        parser.error("--forwarded-allow-ips must list your proxies' addresses; '*' would trust every client")
    sys.path.insert(0, os.getcwd())
    if args.server == "uvicorn":
        _serve_uvicorn(args.application, args.host, args.port, args.forwarded_allow_ips, args.workers)
    else:
        _serve_daphne(args.application, args.host, args.port)


def _frame_limit(application: str) -> int:
    """Import the application (which sets Django up) and return HUB_MAX_FRAME_BYTES."""
    from django.utils.module_loading import import_string

    import_string(application.replace(":", "."))
    from notifications.conf import hub_settings

    return int(hub_settings.HUB_MAX_FRAME_BYTES)


def _compression() -> bool:
    """Return HUB_WEBSOCKET_COMPRESSION (after ``_frame_limit`` set Django up).

    Uvicorn offers permessage-deflate by default and every browser accepts it: a zlib
    context per connection (about 35 KB) and a compression per frame and connection.
    """
    from notifications.conf import hub_settings

    return bool(hub_settings.HUB_WEBSOCKET_COMPRESSION)


def _serve_uvicorn(application: str, host: str, port: int, forwarded: str, workers: int) -> None:
    import uvicorn

    uvicorn.run(
        application, host=host, port=port, workers=workers, http=_guarded_protocol(),
        ws="notifications.uvicorn_protocol:LeanWebSocketProtocol",
        ws_max_size=_frame_limit(application), ws_per_message_deflate=_compression(), lifespan="off",
        proxy_headers=True, forwarded_allow_ips=forwarded, log_level=os.environ.get("UVICORN_LOG_LEVEL", "warning"),
    )  # fmt: skip


def _guarded_protocol() -> type:
    """Return :class:`GuardedHttpToolsProtocol`; raise ImportError naming the extra without Uvicorn."""
    if _HttpToolsProtocol is None:
        raise ImportError('Uvicorn is not installed: pip install "django-notification-hub[uvicorn]"')
    return GuardedHttpToolsProtocol


_HttpToolsProtocol: Any
try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _HttpToolsProtocol
except ImportError:  # the [uvicorn] extra is not installed: Daphne only
    _HttpToolsProtocol = None

if _HttpToolsProtocol is not None:

    class GuardedHttpToolsProtocol(_HttpToolsProtocol):
        """Uvicorn's httptools protocol, dropping a connection whose request is not complete in time.

        At module level: Uvicorn's worker processes find it by name.
        """

        _handshake_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._handshake_timer = self.loop.call_later(HANDSHAKE_TIMEOUT, self._drop_incomplete)

        def on_headers_complete(self) -> None:
            if self._handshake_timer is not None:
                self._handshake_timer.cancel()
                self._handshake_timer = None
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._handshake_timer is not None:
                self._handshake_timer.cancel()
            super().connection_lost(exc)

        def _drop_incomplete(self) -> None:
            self._handshake_timer = None
            if not self.transport.is_closing():
                self.transport.close()


def _serve_daphne(application: str, host: str, port: int) -> None:
    from daphne import http_protocol, server
    from daphne.access import AccessLogGenerator
    from daphne.endpoints import build_endpoint_description_strings
    from django.utils.module_loading import import_string

    limit = _frame_limit(application)

    class GuardedHTTPFactory(http_protocol.HTTPFactory):
        """Daphne's factory with Twisted's idle timeout (60 s) cut to the handshake timeout.

        Twisted suspends it while a request is handled, so long responses (SSE) are not cut.
        """

        def __init__(self, owner: Any):
            super().__init__(owner)
            self.timeOut = HANDSHAKE_TIMEOUT

    server.HTTPFactory = GuardedHTTPFactory
    logging.basicConfig(level=logging.WARNING, format="%(asctime)-15s %(levelname)-8s %(message)s")
    server.Server(
        application=import_string(application.replace(":", ".")),
        endpoints=build_endpoint_description_strings(host=host, port=port),
        action_logger=AccessLogGenerator(sys.stdout),
        websocket_max_message_size=limit,
        websocket_max_frame_size=limit,
        websocket_handshake_timeout=HANDSHAKE_TIMEOUT,
    ).run()


if __name__ == "__main__":
    main()
