"""Template tags of the announcements: ``{% active_announcements as announcements %}``."""

from __future__ import annotations

import logging
from typing import Any

from django import template
from django.db import DatabaseError

from notifications.announcements import events, selectors

logger = logging.getLogger(__name__)

register = template.Library()


@register.simple_tag(takes_context=True)
def active_announcements(context: template.Context) -> list[dict[str, Any]]:
    """Return the payloads of the live announcements for the page's user, not dismissed, most severe first.

    The page still renders (without banners, logged) when the database cannot be read.
    """
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    try:
        return [events.payload(announcement) for announcement in selectors.for_user(user=user)]
    except DatabaseError as error:
        logger.warning("A page is rendered without its announcements: cannot read them: %s", error)
        return []


@register.simple_tag
def blank_announcement() -> dict[str, Any]:
    """Return an empty payload: the banner's ``<template>`` that the browser fills for live shows."""
    return {"id": "", "title": "", "body_html": "", "level": "info", "dismissible": True, "version": 0, "starts": ""}
