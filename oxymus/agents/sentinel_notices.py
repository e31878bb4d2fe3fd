"""What the sentinel says and remembers: a `Notice` (something worth a notification,
before it is sent), the small wording helpers its lines are built with, and the
`Memory` of what was said kept between runs. `oxymus.agents.sentinel` finds the
notices and proposes them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from oxymus.actions.model import InputRef
from oxymus.agents.confidence import Confidence, derive
from oxymus.sources.contract import utc_iso

KEEP = dt.timedelta(days=70)  # how long what was said is remembered (bills look back 62 days)

@dataclass
class Notice:
    """Something worth a notification, before it is sent."""

    category: str  # meeting, ci, review, bill, approvals
    topic: str  # what is remembered once said: one episode of one thing
    title: str  # as a notification of its own
    body: str
    line: str  # as one line of a combined notification
    label: str  # a few words for the run summary
    short: str  # a few words for a combined title: owner/repo#12, a bill's name
    urgent: bool
    reason: str
    inputs: list[InputRef] = field(default_factory=list)
    at: str = ""  # local time since when it is true, as shown
    fact: str = ""  # the fact key it announces (one notification per fact, whichever agent says it); default: topic


# --- small helpers ---------------------------------------------------------------------


def notice_confidence(group: list[Notice]) -> Confidence:
    """See `Sentinel.confidence_rule`."""
    return derive("strong" if any(n.urgent for n in group) else "moderate", support=len(group) - 1)


def parse_time(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso)


def cut(text: str, width: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: max(0, width - 1)] + "…"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else many or word + 's'}"


def day_words(day: dt.date, today: dt.date) -> str:
    if day == today:
        return "today"
    if day == today + dt.timedelta(days=1):
        return "tomorrow"
    if day == today - dt.timedelta(days=1):
        return "yesterday"
    return f"{day:%a} {day.day} {day:%b}"


def moment_words(when: dt.datetime, zone, today: dt.date) -> str:
    """A moment in local time: 14:05, yesterday 23:10, Sat 21 Nov 09:00."""
    local = when.astimezone(zone)
    if local.date() == today:
        return f"{local:%H:%M}"
    return f"{day_words(local.date(), today)} {local:%H:%M}"


def money(amount: Any, currency: Any) -> str:
    try:
        return f"{float(amount):,.2f} {currency or ''}".rstrip()
    except (TypeError, ValueError):
        return ""


def short_hash(parts: list[str]) -> str:
    return hashlib.sha256("|".join(sorted(parts)).encode()).hexdigest()[:16]


class Memory:
    """What the sentinel keeps between runs (one JSON value under `memory`)."""

    def __init__(self, raw: Any):
        raw = raw if isinstance(raw, dict) else {}
        self.sent: dict[str, str] = dict(raw.get("sent") or {})  # topic -> when it was proposed
        self.episodes: dict[str, dict[str, Any]] = dict(raw.get("episodes") or {})
        self.digested: dict[str, str] = dict(raw.get("digested") or {})  # digest entry id -> when notified
        self.digest_day: str | None = raw.get("digest_day")
        self._before = json.dumps(self.dump(), sort_keys=True)

    def dump(self) -> dict[str, Any]:
        return {"sent": self.sent, "episodes": self.episodes, "digested": self.digested, "digest_day": self.digest_day}

    @property
    def changed(self) -> bool:
        return json.dumps(self.dump(), sort_keys=True) != self._before

    def episode(self, topic: str, now: str, ident: str | None = None) -> str:
        """The current episode of a condition that holds now: since when (or its own ident)."""
        ep = self.episodes.get(topic)
        if ep is None or not ep.get("open") or (ident is not None and ep.get("ident") != ident):
            ep = self.episodes[topic] = {"since": now, "ident": ident, "open": True}
        return ep["since"]

    def close_absent(self, prefix: str, present: set[str], now: str) -> None:
        """Conditions of this kind that no longer hold: their episode is over (nothing is said)."""
        for topic, ep in self.episodes.items():
            if topic.startswith(prefix) and topic not in present and ep.get("open"):
                ep.update(open=False, closed=now)

    def prune(self, now: dt.datetime) -> None:
        cutoff = utc_iso(now - KEEP)
        self.sent = {k: v for k, v in self.sent.items() if v >= cutoff}
        self.digested = {k: v for k, v in self.digested.items() if v >= cutoff}
        self.episodes = {k: v for k, v in self.episodes.items() if v.get("open") or v.get("closed", "") >= cutoff}
