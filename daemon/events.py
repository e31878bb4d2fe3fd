"""Change events, fanned out to subscribed connections.

Each subscriber has a bounded queue. A subscriber that falls that far behind is
cut off (and told why) rather than letting the daemon's memory grow: the client
reconnects and reloads, which is always correct.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from oxymus.time.clock import now_iso

log = logging.getLogger("oxymus.daemon.events")
QUEUE_SIZE = 10_000


class Subscriber:
    def __init__(self, topics: list[str], name: str):
        self.topics = topics
        self.name = name
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_SIZE)
        self.overflowed = False

    def wants(self, topic: str) -> bool:
        return any(_matches(t, topic) for t in self.topics)


def _matches(pattern: str, topic: str) -> bool:
    return pattern == topic or (pattern.endswith("*") and topic.startswith(pattern[:-1]))


class EventBus:
    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()

    def subscribe(self, topics: list[str], name: str) -> Subscriber:
        sub = Subscriber(topics, name)
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def publish(self, topic: str, data: dict[str, Any]) -> int:
        """Queue the event for every subscriber that wants it; returns how many asked for its topic
        by name (or by its prefix): those show it, while a catch-all `*` subscriber only listens."""
        event = {"topic": topic, "ts": now_iso(), "data": data}
        named = 0
        for sub in list(self.subscribers):
            if not sub.wants(topic) or sub.overflowed:
                continue
            try:
                sub.queue.put_nowait(event)
                named += any(t != "*" and _matches(t, topic) for t in sub.topics)
            except asyncio.QueueFull:
                sub.overflowed = True
                log.warning("subscriber %s fell %d events behind; disconnecting it", sub.name, QUEUE_SIZE)
                self.subscribers.discard(sub)
                # Make room for the end marker so its pusher wakes up and closes.
                sub.queue.get_nowait()
                sub.queue.put_nowait(None)
        return named
