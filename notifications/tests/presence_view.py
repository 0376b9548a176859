"""What a client knows of a topic's presence, built from the frames it receives (docs/protocol.md, "Presence")."""

from __future__ import annotations

from typing import Any

PRESENCE_FRAMES = frozenset({"presence", "join", "leave", "visitors"})


class PresenceView:
    """Members and visitors of one client's presence topics, as the bundled clients keep them."""

    def __init__(self) -> None:
        self.members: dict[str, dict[Any, dict]] = {}
        self.visitors: dict[str, int] = {}
        self._pages: dict[str, list[dict]] = {}

    def apply(self, frame: dict) -> None:
        """Apply one frame: a snapshot page replaces the topic's state once its last page is in."""
        kind, topic = frame.get("type"), frame.get("topic", "")
        if kind == "presence":
            pages = self._pages.setdefault(topic, [])
            pages.append(frame)
            if frame["page"] == frame["pages"]:
                self.members[topic] = {member["id"]: member for page in pages for member in page["members"]}
                self.visitors[topic] = frame["visitors"]
                del self._pages[topic]
        elif kind == "join":
            self.members.setdefault(topic, {})[frame["member"]["id"]] = frame["member"]
        elif kind == "leave":
            self.members.setdefault(topic, {}).pop(frame["member"]["id"], None)
        elif kind == "visitors":
            self.visitors[topic] = frame["count"]

    def usernames(self, topic: str) -> list[str]:
        """Return the topic's members' usernames, sorted."""
        return sorted(member["username"] for member in self.members.get(topic, {}).values())
