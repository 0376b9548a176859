"""``{% load hub %}{% hub_script %}``: the browser client on a page, connected as ``window.hub``."""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def hub_script(connect: bool = True) -> str:
    """Return the ``<script>`` of hub.js; with ``connect`` (the default) it opens ``window.hub`` itself."""
    return format_html(
        '<script src="{}"{}></script>', static("notifications/hub.js"), " data-hub-connect" if connect else ""
    )
