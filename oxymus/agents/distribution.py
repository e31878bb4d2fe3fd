"""Distribution: a published post goes out as a newsletter to a list of subscribers, at a set time.

Each run (every 10 minutes by default, or `oxymus agents run distribution`) reads the
`post` records in status `published` (`records:post`) and what this agent already
proposed (`actions`), then, per post:

1. Proposes one `email.send` per subscriber, held until `send_at` (the next such local
   time after the post was published) through the action's `not_before`: approved, the
   executor sends it then, not before, across restarts and after a pause. The post was
   published at its `publish_at` field, or else at its record's last change. Like any
   `email.send` it needs the person's approval unless a policy rule says otherwise.
2. Once every subscriber's email has been sent, proposes `record.update` moving the post
   to `distributed` (an agent's record change needs approval by default too).

One message per subscriber rather than one with every address in Bcc: no subscriber's
address can leak to another (a Bcc is only as private as every server on the way
keeps it), each message is sent, retried and receipted on its own (email.send refuses
the whole message when one recipient is refused), and a subscriber added later gets
their own message without resending to the rest.

Idempotency: the action key is `distribution:<post id>:<subscriber hash>` and the
Message-ID is derived from the same two (`<distribution.<hash>@<message_id_domain>>`),
so a run, a re-run or a crash between them never proposes (nor, through email.send's
Message-ID marker, sends) twice to one subscriber for one post. A denied or expired
email is not proposed again. Only posts published within `max_age` are sent, so turning
the agent on does not mail the whole archive.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import string
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from oxymus.actions.model import InputRef
from oxymus.agents.base import Agent, AgentSettings, RecordPort, Trigger
from oxymus.time.timeofday import parse_clock
from oxymus.time.when import Duration, parse_duration

_ADDRESS = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+\.[^@\s<>,;:\"()\[\]\\]+$")
_DOMAIN = re.compile(r"^[A-Za-z0-9.-]+$")
PLACEHOLDERS = {"title", "url", "notes"}
SENT = "succeeded"
GIVEN_UP = ("denied", "expired", "failed", "cancelled", "compensated")


class DistributionSettings(AgentSettings):
    """`[agents.distribution]`"""

    subscribers: str | list[str] = Field(
        default_factory=list,
        description="the subscribers: a file (absolute or ~/..., one address per line, # comments) or a list of addresses",
        examples=["~/blog/subscribers.txt"])
    send_at: str = Field(default="09:00", description="local time HH:MM: a post goes out at the next such time after it was published")
    subject: str = Field(default="{title}", max_length=300, description="the subject: {title} {url}")
    body: str = Field(default="{title}\n\n{notes}\n\nRead it: {url}\n", max_length=20_000,
                      description="the plain-text body: {title} {url} {notes} (the post record's notes)")
    message_id_domain: str = Field(default="localhost", description="the right side of the Message-IDs (use your [mail] from domain)",
                                   examples=["example.org"])
    max_age: Duration = Field(default="7d", description="only posts published this recently are sent (not the whole archive)")

    @field_validator("subscribers")
    @classmethod
    def _subscribers(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, str) and not (value.startswith("/") or value.startswith("~")):
            raise ValueError(f"{value!r}: give an absolute path or ~/..., or a list of addresses")
        if isinstance(value, list):
            for address in value:
                if not _ADDRESS.match(address.strip()):
                    raise ValueError(f"{address!r} is not an email address")
        return value

    @field_validator("send_at")
    @classmethod
    def _clock(cls, value: str) -> str:
        parse_clock(value, "09:00")
        return value

    @field_validator("subject", "body")
    @classmethod
    def _template(cls, value: str) -> str:
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        unknown = names - PLACEHOLDERS
        if unknown:
            raise ValueError(f"unknown placeholder {{{sorted(unknown)[0]}}} (use {', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))})")
        return value

    @field_validator("message_id_domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        if not _DOMAIN.match(value):
            raise ValueError(f"{value!r} is not a domain name")
        return value


def read_subscribers(value: str | list[str]) -> tuple[list[str], list[str]]:
    """(the addresses, lower-cased and each once, in order; the lines that are not addresses)."""
    if isinstance(value, str):
        text = Path(os.path.expanduser(value)).read_text(encoding="utf-8")
        lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    else:
        lines = [v.strip() for v in value]
    seen: dict[str, None] = {}
    bad = []
    for line in lines:
        if not line:
            continue
        if _ADDRESS.match(line):
            seen.setdefault(line.lower())
        else:
            bad.append(line)
    return list(seen), bad


def subscriber_hash(post_id: str, address: str) -> str:
    return hashlib.sha256(f"{post_id}\n{address.lower()}".encode("utf-8")).hexdigest()[:24]


def email_key(post_id: str, address: str) -> str:
    return f"distribution:{post_id}:{subscriber_hash(post_id, address)}"


def message_id(post_id: str, address: str, domain: str) -> str:
    return f"<distribution.{subscriber_hash(post_id, address)}@{domain}>"


def published_at(post: Any) -> dt.datetime:
    """When the post was published: its `publish_at` field when set, else its record's last change."""
    given = post.fields.get("publish_at")
    if given:
        moment = dt.datetime.fromisoformat(str(given).replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromisoformat(post.updated_at)


def send_time(published: dt.datetime, send_at: str, zone) -> dt.datetime:
    """The first `send_at` (local, in `zone`) after `published`."""
    at = parse_clock(send_at, "09:00")
    local = published.astimezone(zone)
    candidate = dt.datetime.combine(local.date(), at, zone)
    if candidate <= local:
        candidate = dt.datetime.combine(local.date() + dt.timedelta(days=1), at, zone)
    return candidate


class Distribution(Agent):
    name = "distribution"
    role = (
        "The distribution agent sends each newly published post to the newsletter's subscribers: one email per "
        "subscriber, at the set time after publishing, each one approved by the person, and marks the post "
        "distributed once every email went out. It never writes the post and never guesses addresses."
    )
    reads = ("records:post", "actions")
    proposes = ("email.send", "record.update")
    consumes = (RecordPort(kind="post", status="published"),)
    produces = (RecordPort(kind="post", status="distributed"),)
    validates = ("one email per post and subscriber, held until send_at",)
    trigger = Trigger(every="10m")
    Settings = DistributionSettings
    confidence_rule = (
        "Certain (1.0): the subscribers come from the configured list, the post is published (its record's status), "
        "the time from send_at; nothing is inferred."
    )

    async def run(self, ctx: Any) -> str:
        s: DistributionSettings = ctx.settings  # type: ignore[assignment]
        try:
            subscribers, bad = read_subscribers(s.subscribers)
        except OSError as exc:
            ctx.note(f"cannot read the subscribers ({exc.strerror or exc}): [agents.distribution] subscribers")
            return f"nothing sent: the subscribers file {s.subscribers} cannot be read"
        for line in bad[:5]:
            ctx.note(f"not an address, skipped: {line!r}")
        posts = await ctx.records("post", "published")
        now = ctx.now()
        oldest = now - dt.timedelta(seconds=parse_duration(s.max_age))
        mine = {a.idempotency_key: a for a in await ctx.actions(limit=5000) if a.proposer.name == self.name}
        proposed = held = finished = 0
        for post in posts:
            published = published_at(post)
            keys = {address: email_key(post.id, address) for address in subscribers}
            if published < oldest and not any(k in mine for k in keys.values()):
                continue  # published before the agent was told about it: not mailed out of the blue
            when = send_time(published, s.send_at, ctx.zone)
            fields = {"title": post.title, "url": post.fields.get("url") or "", "notes": post.body.strip()}
            for address, key in keys.items():
                if key in mine:
                    continue
                action = await ctx.propose(
                    "email.send",
                    {"to": [address], "subject": s.subject.format(**fields).replace("\n", " ").strip() or post.title,
                     "body": s.body.format(**fields), "message_id": message_id(post.id, address, s.message_id_domain)},
                    reason=f"the newsletter for the published post '{post.title}', sent {when.strftime('%a %d %b %H:%M')}",
                    inputs=[InputRef(kind="record", ref=post.id, note=f"post, published, version {post.version}")],
                    confidence=1.0, key=key, not_before=when,
                )
                if action is not None:
                    mine[key] = action
                    proposed += 1
            emails = [mine[k] for k in keys.values() if k in mine]
            if subscribers and len(emails) == len(subscribers) and all(a.status == SENT for a in emails):
                done = await ctx.propose(
                    "record.update", {"id": post.id, "status": "distributed", "note": f"sent to {len(emails)} subscribers"},
                    reason=f"every subscriber's email for '{post.title}' was sent ({len(emails)})",
                    inputs=[InputRef(kind="record", ref=post.id, note="post, published")], confidence=1.0,
                    key=f"distribution:{post.id}:distributed",
                )
                finished += done is not None
            else:
                held += sum(a.status not in (SENT, *GIVEN_UP) for a in emails)
                for a in emails:
                    if a.status in GIVEN_UP:
                        ctx.note(f"'{post.title}' to {a.payload.get('to', ['?'])[0]}: {a.status}; the post stays published")
        if not subscribers:
            return "no subscribers: [agents.distribution] subscribers is empty"
        return (f"{len(posts)} published post(s), {len(subscribers)} subscriber(s): {proposed} email(s) proposed, "
                f"{held} waiting or held, {finished} post(s) ready to mark distributed")
