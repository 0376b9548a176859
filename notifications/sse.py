"""The hub over Server-Sent Events, for networks whose proxies strip websocket upgrades.

``GET /hub/sse/`` streams the same frames as the websocket, from the same
:class:`~notifications.session.HubSession`; client frames come back as
``POST /hub/sse/<connection>/`` and reach that session through the channel layer,
whichever server process holds it. Protocol: docs/protocol.md, "Server-Sent Events".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.core import signing
from django.core.exceptions import RequestAborted
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from redis.exceptions import RedisError

from notifications import groups, limits, protocol, tokens
from notifications.conf import hub_settings
from notifications.exceptions import InvalidToken
from notifications.session import FRAME_TYPE, HubSession

__all__ = ["post_frame", "stream"]

logger = logging.getLogger(__name__)

_SALT = "notifications.sse.connection"


class _QuietAbortedStreams(logging.Filter):
    """Drops asyncio's "Task exception was never retrieved" about Django's RequestAborted.

    When a server shuts down under open SSE streams, Django's ASGI handler is cancelled while
    its disconnect listener ends with RequestAborted, which nobody then reads: an aborted
    request, not an error (the streams' own clean-up has run).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], RequestAborted))


logging.getLogger("asyncio").addFilter(_QuietAbortedStreams())
_UNKNOWN = {"error": "unknown_connection", "message": "no such connection of yours; reconnect"}


class _Transport:
    """Collects a session's frames as SSE messages until the stream loop writes them out."""

    wants_cursor = True
    batches = False  # one event per SSE message: its id line is the cursor after it

    def __init__(self) -> None:
        self.chunks: list[str] = []

    async def send(self, text: str, cursor: str | None = None) -> None:
        """Queue one frame as an SSE message (with an ``id:`` line carrying the cursor, if any)."""
        self.chunks.append(("id: %s\ndata: %s\n\n" % (cursor, text)) if cursor is not None else "data: %s\n\n" % text)

    async def close(self, code: int) -> None:
        """Queue the ``close`` frame; the stream ends after it."""
        self.chunks.append("data: %s\n\n" % protocol.encode({"type": "close", "code": code}))

    def drain(self) -> str:
        """Return what is queued and forget it."""
        text, self.chunks = "".join(self.chunks), []
        return text


@never_cache
@require_GET
async def stream(request: HttpRequest) -> HttpResponseBase:
    """Serve the user stream, broadcasts and the ``?topic=`` topics as ``text/event-stream``."""
    try:
        user, mark, issued = await _identify(request, request.GET.get("token"))
    except InvalidToken as error:
        return JsonResponse({"error": "invalid_token", "message": str(error)}, status=403)
    if not user.is_authenticated and not hub_settings.HUB_ALLOW_ANONYMOUS:
        return JsonResponse({"error": "anonymous_refused", "message": "sign in to use the hub"}, status=403)
    resume = protocol.decode_cursor(request.headers.get("Last-Event-ID") or request.GET.get("last_event_id"))
    topics = request.GET.getlist("topic")[: hub_settings.HUB_MAX_SUBSCRIPTIONS]
    address = request.META.get("REMOTE_ADDR")
    events = _events(user, mark, issued, address, resume, topics)
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["X-Accel-Buffering"] = "no"  # nginx: pass each message on at once
    return response


@csrf_exempt  # checked below for cookie sessions; token clients have no cookie to ride on
@require_POST
async def post_frame(request: HttpRequest, connection: str) -> HttpResponseBase:
    """Hand a client frame to the SSE connection ``connection`` of the caller; its reply comes on the stream."""
    bearer = request.headers.get("Authorization", "")
    try:
        user, _mark, _issued = await _identify(request, bearer[7:] if bearer.startswith("Bearer ") else None)
    except InvalidToken as error:
        return JsonResponse({"error": "invalid_token", "message": str(error)}, status=403)
    if (
        not bearer
        and (refusal := CsrfViewMiddleware(_no_response).process_view(request, _no_response, (), {})) is not None
    ):
        return refusal
    try:
        claims = signing.loads(connection, salt=_SALT)
    except signing.BadSignature:
        return JsonResponse(_UNKNOWN, status=404)
    user_id = user.pk if user.is_authenticated else None
    if claims.get("u") != user_id:
        return JsonResponse(_UNKNOWN, status=404)
    if len(request.body) > hub_settings.HUB_MAX_FRAME_BYTES:
        message = "frame exceeds %d bytes" % hub_settings.HUB_MAX_FRAME_BYTES
        return JsonResponse({"error": protocol.TOO_LARGE, "message": message}, status=413)
    try:
        text = request.body.decode()
        if not isinstance(json.loads(text), dict):
            raise ValueError("not an object")
    except ValueError:
        return JsonResponse({"error": protocol.BAD_FRAME, "message": "the body is one JSON object"}, status=400)
    try:
        await get_channel_layer().send(claims["c"], {"type": FRAME_TYPE, "user": user_id, "text": text})
    except RedisError as error:
        logger.warning("Could not relay an SSE client frame: %s", error)
        return JsonResponse({"error": "unavailable", "message": "the hub is unavailable; try again"}, status=503)
    return JsonResponse({"accepted": True}, status=202)


async def _events(
    user: Any, mark: str | None, issued: float | None, address: str | None, resume: dict[str, str], topics: list[str]
) -> AsyncIterator[str]:
    """Open a session on a new inbox channel and write its frames out until it closes or the client goes."""
    if not limits.connection_opened(address):
        yield "data: %s\n\n" % protocol.encode({"type": "close", "code": protocol.CLOSE_TOO_MANY_CONNECTIONS})
        return
    try:
        # aclosing: a client gone mid-stream closes the session's generator now, not at garbage collection.
        async with contextlib.aclosing(_session_events(user, mark, issued, address, resume, topics)) as chunks:
            async for chunk in chunks:
                yield chunk
    finally:
        limits.connection_closed(address)


async def _session_events(
    user: Any, mark: str | None, issued: float | None, address: str | None, resume: dict[str, str], topics: list[str]
) -> AsyncGenerator[str, None]:
    layer = get_channel_layer()
    channel, queue = await layer.new_inbox()
    transport = _Transport()
    session = HubSession(layer, channel, user, transport, mark, issued, address)
    session.connection_id = signing.dumps({"c": channel, "u": session.user_id}, salt=_SALT)
    try:
        await session.open(resume, topics)
        yield transport.drain()
        while not session.closed:
            try:
                async with asyncio.timeout(hub_settings.HUB_HEARTBEAT):  # not wait_for: see layers.py
                    message = await queue.get()
            except TimeoutError:
                yield ": ping\n\n"
                continue
            await session.handle(message)
            while not session.closed and not queue.empty():
                await session.handle(queue.get_nowait())
            yield transport.drain()
    finally:
        await session.leave()
        try:
            await layer.close_inbox(channel)
        except RedisError as error:
            logger.warning("Could not unsubscribe channel %s: %s", channel, error)


async def _identify(request: HttpRequest, token: str | None) -> tuple[Any, str | None, float | None]:
    """Return the caller (token's user, else the session's), its session mark and token time; raise InvalidToken."""
    if token:
        grant = await database_sync_to_async(tokens.read)(token)
        return grant.user, None, grant.issued
    user = await request.auser()
    key = request.session.session_key if user.is_authenticated else None
    return user, groups.session_mark(key) if key else None, None


def _no_response(request: HttpRequest) -> HttpResponse:
    return HttpResponse()
