"""An announcement's body as HTML that is safe to insert into any page."""

from __future__ import annotations

import markdown as _markdown
import nh3
from django.utils.html import linebreaks

__all__ = ["body_html"]

# Markdown's own "extra" bits that admins expect; the output is cleaned by nh3 anyway.
_EXTENSIONS = ["sane_lists", "fenced_code", "tables"]


def body_html(body: str, *, markdown: bool) -> str:
    """Return ``body`` as safe HTML: Markdown cleaned by nh3, or escaped plain text in paragraphs."""
    if markdown:
        return nh3.clean(_markdown.markdown(body, extensions=_EXTENSIONS))
    return linebreaks(body, autoescape=True)
