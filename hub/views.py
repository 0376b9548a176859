"""Demo pages built on the hub: the home page and the chat rooms."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from notifications import groups


def home(request: HttpRequest) -> HttpResponse:
    """Render the home page, which links to the demos."""
    return render(request, "home.html")


def chat_room(request: HttpRequest, room: str) -> HttpResponse:
    """Render a chat room: every page in the room sees each message (topic ``chat.{room}``)."""
    return render(request, "chat.html", {"room": room, "topic": groups.chat_topic(room)})
