"""The sentinel: turns changes in state into a few notifications worth having, and a daily digest.

Every minute it looks at state and says something only when there is something to
say (never "all good"). What it watches, and what each becomes:

- a meeting starts within `meeting_lead` (timed `calendar.event`s, not all-day ones):
  one notification per occurrence, up to a few minutes after the start if the
  machine was asleep at the lead time. **Urgent.**
- CI failed on one of my PRs (`github.pr` with `ci = "failure"`): once per failure,
  again when it fails anew (a new `head_sha` if the item carries one, otherwise after
  CI was seen not failing, e.g. pending on a new push, or the PR left the list).
- my review was requested (`github.review_request`): once per request, again only
  if it was withdrawn and asked for again.
- a bill is overdue (`bills.due` past its date, not autopay, not marked paid through
  `oxymus paid`, at most OVERDUE_DAYS old): once per bill and due date.
- approvals wait (actions in `awaiting_approval` longer than `approvals_after`,
  not the sentinel's own): one reminder per action at most. The reminder names
  every request not yet reminded that has waited at least half that long, so a
  batch proposed together is reminded together.

Several of one kind found in the same run (three review requests on the first run,
two overdue bills) make one notification, not several.

Minor items go into the day's digest instead: the artifact `digest`, key the local
date, updated through the day as items turn up (and marked resolved when they go):

- a bill due within `bill_days` days (today included), not autopay, not paid;
- a source stale for longer than `stale_for` past its own `stale_after` (or never
  working and failing that long), counted from no earlier than the sentinel first
  saw it stale (after a night asleep every source is old until it polls, which is
  no news): once per stale episode; a recovery is not announced.

At `digest_at` (or the first run after it that day) ONE notification tells what is
new in the digest; not again that day. A day with nothing minor has no digest.

Quiet hours (`quiet_hours`, the person's zone): only urgent items are sent, a
meeting about to start, marked `critical` so that a quiet-hours deny rule in
policy.toml that spares critical ones (as in `oxymus policy init`) lets it through.
An overdue bill is not urgent: nothing about it is better done at 3 am than at 7,
so it waits. Everything non-urgent found during quiet hours is held, not dropped:
it is sent by the first run after quiet hours end if it is still true then (a PR
fixed overnight is never mentioned). `digest_at` may not fall inside quiet hours.

The pause ("not today", read with `ctx.paused()`): nothing is proposed while paused,
not even the digest notification; the digest and the episodes are still kept, and
what is still true when the pause ends is said then (a meeting whose time passed
is not). A notification proposed just before a pause waits in the outbox like any
action, and expires on resume if it is older than its expiry (1 h by default).

Dedup: each notification has an idempotency key (`sentinel:...`), and what was said
is remembered per episode (`ctx.remember`), so re-runs propose nothing twice.

The LLM (optional) only words the digest notification's title and opening line,
from the items given as facts; an answer with a number not in the facts is refused.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from oxymus.actions.model import InputRef
from oxymus.agents.base import Agent, AgentSettings, Trigger
from oxymus.agents.confidence import LlmPart, derive
from oxymus.agents.sentinel_notices import (
    Memory,
    Notice,
    cut,
    day_words,
    moment_words,
    money,
    notice_confidence,
    parse_time,
    plural,
    short_hash,
)
from oxymus.sources.contract import utc_iso
from oxymus.time.timeofday import in_window, optional_window, parse_clock, parse_window
from oxymus.time.when import Duration, parse_duration

LATE_GRACE = dt.timedelta(minutes=5)  # a meeting reminder still goes out this long after the start (wake from sleep)
OVERDUE_DAYS = 7  # an overdue bill is announced up to this many days after its due date
MEMORY_KEY = "memory"
# Each category's [notify.kinds] switch.
KINDS = {"meeting": "meeting", "ci": "github", "review": "github", "bill": "bill", "approvals": "approval"}
COALESCE = ("ci", "review", "bill", "approvals")  # several of these in one run make one notification
MAX_LINES = 8  # items listed in one notification's body


class SentinelSettings(AgentSettings):
    """`[agents.sentinel]`."""

    meeting_lead: Duration = Field(default="10m", description="how long before a meeting starts to say so")
    bill_days: int = Field(default=2, ge=0, le=60, description="a bill due within this many days (today included) goes into the digest")
    stale_for: Duration = Field(default="2h", description="how long a source may stay stale (past its own stale_after) before the digest mentions it")
    approvals_after: Duration = Field(default="30m", description="remind once about an approval request still waiting after this long")
    quiet_hours: Annotated[str, AfterValidator(optional_window)] = Field(default="22:00-07:00", description="local HH:MM-HH:MM when only urgent items (a meeting about to start) are sent; empty: none")
    digest_at: str = Field(default="17:00", description="local HH:MM of the one digest notification of the day (if the digest has anything new)")

    @field_validator("digest_at")
    @classmethod
    def _clock(cls, value: str) -> str:
        parse_clock(value, "17:00")
        return value

    @model_validator(mode="after")
    def _digest_outside_quiet(self) -> "SentinelSettings":
        if self.quiet_hours and in_window(parse_clock(self.digest_at), parse_window(self.quiet_hours, wraps=True)):
            raise ValueError(f"digest_at {self.digest_at} falls inside quiet_hours {self.quiet_hours}, "
                             "so the digest would never be sent; move one of them")
        return self


class DigestWording(BaseModel):
    """What the LLM may write for the digest notification: its title and an opening line."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=100, description="the notification title, one line")
    intro: str = Field(min_length=3, max_length=300, description="one or two short sentences before the list")


# --- the agent -------------------------------------------------------------------------


class Sentinel(Agent):
    name = "sentinel"
    role = (
        "The sentinel watches the person's calendar, pull requests, bills, sources and pending approvals, and "
        "says something only when it is worth it: a meeting about to start, CI failing on their PR, a review asked "
        "of them, an overdue bill, approvals left waiting. Minor things (a bill due soon, a source gone stale) go "
        "into one evening digest. It never says that all is well. When it words the digest, it is brief and "
        "factual, and it uses only the facts it was given."
    )
    reads = ("state:calendar.event", "state:github.pr", "state:github.review_request", "state:bills.due",
             "sources", "actions", "artifacts:digest")
    proposes = ("notify.send",)
    trigger = Trigger(every="1m")
    Settings = SentinelSettings
    confidence_rule = (
        "A notification is as sure as the most pressing rule among its notices: a meeting within meeting_lead "
        "strong, anything else (failing CI, a review asked, an overdue bill, an approval waiting) moderate; each "
        "further notice in the same notification is a supporting signal. The evening digest is moderate with each "
        "further new item a supporting signal; with an LLM, its wording validated or did not."
    )

    async def run(self, ctx) -> str:
        s: SentinelSettings = self.settings  # type: ignore[assignment]
        now = ctx.now()
        now_s = utc_iso(now)
        local = now.astimezone(ctx.zone)
        today = local.date()
        quiet = bool(s.quiet_hours) and in_window(local.time(), parse_window(s.quiet_hours, wraps=True))
        paused = await ctx.paused() is not None
        mem = Memory(await ctx.recall(MEMORY_KEY))

        waiting = await ctx.actions(["awaiting_approval"])
        settled = await ctx.actions(["approved", "executing", "succeeded"], limit=1000)
        paid = {(str(a.payload.get("bill")), str(a.payload.get("due"))) for a in settled if a.kind == "bills.mark_paid"}

        notices: list[Notice] = []
        notices += await self._meetings(ctx, s, now, today)
        notices += await self._pulls(ctx, mem, now_s, today)
        overdue, soon = await self._bills(ctx, s, today, paid)
        notices += overdue
        entries = soon + await self._sources(ctx, s, mem, now, today)
        notices += self._approvals(ctx, waiting, s, mem, now, today)

        # What is new, and what may be said now.
        fresh = [n for n in notices if n.topic not in mem.sent]
        if paused:
            send, held = [], fresh
        elif quiet:
            send, held = [n for n in fresh if n.urgent], [n for n in fresh if not n.urgent]
        else:
            send, held = fresh, []
        said: list[str] = []
        for group in self._groups(send):
            reason = "; ".join(n.reason for n in group)[:1000]
            inputs = [i for n in group for i in n.inputs][:50]
            action = await ctx.propose("notify.send", self._payload(group, quiet), reason=reason, inputs=inputs, key=self._key(group),
                                       confidence=notice_confidence(group).value)
            if action is not None:
                for n in group:
                    mem.sent[n.topic] = now_s
                said.append(group[0].label if len(group) == 1 else f"{group[0].category} x{len(group)}")

        digest_note = await self._digest(ctx, s, mem, entries, now, today, quiet or paused)

        mem.prune(now)
        if mem.changed:
            await ctx.remember(MEMORY_KEY, mem.dump())

        parts = []
        if said:
            parts.append("notified: " + "; ".join(said))
        if held:
            parts.append(f"{plural(len(held), 'item')} held {'while paused' if paused else 'for quiet hours'}")
        if digest_note:
            parts.append(digest_note)
        return ", ".join(parts) if parts else "nothing worth a notification"

    # --- what is worth saying ----------------------------------------------------------

    async def _meetings(self, ctx, s: SentinelSettings, now: dt.datetime, today: dt.date) -> list[Notice]:
        lead = dt.timedelta(seconds=parse_duration(s.meeting_lead))
        items = await ctx.state(["calendar.event"], start=utc_iso(now), end=utc_iso(now + lead + dt.timedelta(seconds=1)))
        out = []
        for item in items:
            data = item.data or {}
            if item.error or data.get("all_day") or not item.starts_at:
                continue
            try:
                start = parse_time(item.starts_at)
                end = parse_time(item.ends_at) if item.ends_at else start
            except ValueError:
                ctx.note(f"skipped calendar item {item.key}: bad time {item.starts_at!r}")
                continue
            if not (start - lead <= now < start + LATE_GRACE) or (end > start and now >= end):
                continue
            summary = cut(data.get("summary") or "(no title)", 120)
            seconds = (start - now).total_seconds()
            if seconds > 0:
                when = f"in {math.ceil(seconds / 60)} min"
            elif seconds > -60:
                when = "now"
            else:
                when = f"started {int(-seconds // 60)} min ago"
            local = start.astimezone(ctx.zone)
            at = f"{local:%H:%M}"  # with "in 10 min" beside it, the day goes without saying
            body = [f"{at}–{moment_words(end, ctx.zone, local.date())}" if end > start else at]
            if data.get("location"):
                body.append(f"at {cut(data['location'], 200)}")
            if str(data.get("status") or "").upper() == "TENTATIVE":
                body.append("tentative")
            if data.get("url"):
                body.append(str(data["url"])[:500])
            if data.get("calendar"):
                body.append(f"calendar {data['calendar']}")
            out.append(Notice(
                category="meeting", topic=f"meeting:{item.source}:{item.key}@{item.starts_at}",
                title=f"{summary} at {at} ({when})", body="\n".join(body), line=f"{at} {summary}", label=f"meeting {summary}", short=summary,
                urgent=True, reason=f"{summary} starts at {at}, within meeting_lead {s.meeting_lead}",
                inputs=[InputRef(kind="state", ref=f"{item.source}:{item.key}", note="calendar.event")],
            ))
        return out

    async def _pulls(self, ctx, mem: Memory, now_s: str, today: dt.date) -> list[Notice]:
        out = []
        present: set[str] = set()
        for item in await ctx.state(["github.pr", "github.review_request"]):
            data = item.data or {}
            try:
                repo, number, title, url = str(data["repo"]), int(data["number"]), str(data.get("title") or ""), str(data["url"])
            except (KeyError, TypeError, ValueError):
                ctx.note(f"skipped GitHub item {item.key}: not a pull request")
                continue
            ref = f"{repo}#{number}"
            inputs = [InputRef(kind="state", ref=f"{item.source}:{item.key}", note=item.kind)]
            if item.kind == "github.pr":
                topic = f"ci:{url}"
                if item.error:  # CI unknown this time: neither a new failure nor the end of one
                    present.add(topic)
                    continue
                if data.get("ci") != "failure":
                    continue
                present.add(topic)
                head = data.get("head_sha")
                since = mem.episode(topic, now_s, str(head) if head else None)
                checks = [str(c) for c in data.get("failing_checks") or []]
                failing = ", ".join(checks[:6]) + (f" and {len(checks) - 6} more" if len(checks) > 6 else "") if checks else "(no check named)"
                at = moment_words(parse_time(since), ctx.zone, today)
                out.append(Notice(
                    category="ci", topic=f"{topic}#{head or since}",
                    title=cut(f"CI failed on {ref} (since {at}): {title}", 200),
                    body=f"{cut(title, 300)}\nFailing: {failing}\n{url}",
                    line=f"{ref} {cut(title, 60)}: {cut(failing, 80)} {url}", label=f"CI failed on {ref}", short=ref,
                    urgent=False, reason=f"CI of {ref} failed ({failing})" + (f" on {str(head)[:12]}" if head else ""),
                    inputs=inputs,
                ))
            else:
                topic = f"review:{url}"
                present.add(topic)
                since = mem.episode(topic, now_s)
                at = moment_words(parse_time(since), ctx.zone, today)
                author = data.get("author") or "someone"
                out.append(Notice(
                    category="review", topic=f"{topic}#{since}",
                    title=cut(f"Review requested on {ref} (since {at}): {title}", 200),
                    body=f"{cut(title, 300)}\nby {author}{' (draft)' if data.get('draft') else ''}\n{url}",
                    line=f"{ref} {cut(title, 60)} by {author} {url}", label=f"review of {ref}", short=ref,
                    urgent=False, reason=f"{author} asked for your review of {ref}", inputs=inputs,
                ))
        mem.close_absent("ci:", present, now_s)
        mem.close_absent("review:", present, now_s)
        return out

    async def _bills(self, ctx, s: SentinelSettings, today: dt.date,
                     paid: set[tuple[str, str]]) -> tuple[list[Notice], list[dict[str, Any]]]:
        overdue: list[Notice] = []
        soon: list[dict[str, Any]] = []
        for item in await ctx.state(["bills.due"]):
            data = item.data or {}
            if item.error or data.get("autopay"):
                continue
            try:
                bill, due = str(data["bill"]), dt.date.fromisoformat(str(data["due"]))
            except (KeyError, ValueError):
                ctx.note(f"skipped bill item {item.key}: no bill or due date")
                continue
            if (bill, due.isoformat()) in paid:
                continue
            name = cut(data.get("name") or bill, 80)
            amount = money(data.get("amount"), data.get("currency"))
            days = (due - today).days
            command = f"oxymus paid {bill} --due {due.isoformat()}"
            ref = InputRef(kind="state", ref=f"{item.source}:{item.key}", note="bills.due")
            url = f"\npay at {data['url']}" if data.get("url") else ""
            if -OVERDUE_DAYS <= days < 0:
                what = f"{name}{', ' + amount if amount else ''}"
                overdue.append(Notice(
                    category="bill", topic=f"bill:{bill}@{due.isoformat()}:overdue",
                    title=f"Overdue: {what}, due {day_words(due, today)}",
                    body=f"Not marked paid in Oxymus.{url}\nPaid already? `{command}`",
                    line=f"{what}, due {day_words(due, today)}: `{command}`", label=f"{name} overdue", short=name,
                    urgent=False, reason=f"{name} was due {due.isoformat()} and is not marked paid", inputs=[ref],
                    fact=f"bill:{bill}@{due.isoformat()}:overdue:{today.isoformat()}",  # finance's reminder of the day says the same
                ))
            elif 0 <= days <= s.bill_days:
                when = day_words(due, today) if days <= 1 else f"{day_words(due, today)} (in {days} days)"
                soon.append({
                    "id": f"bill:{bill}@{due.isoformat()}", "kind": "bill", "label": name,
                    "text": f"{name}{' ' + amount if amount else ''} due {when}", "command": command,
                    "ref": ref.model_dump(),
                })
        return overdue, soon

    async def _sources(self, ctx, s: SentinelSettings, mem: Memory, now: dt.datetime, today: dt.date) -> list[dict[str, Any]]:
        stale_for = parse_duration(s.stale_for)
        now_s = utc_iso(now)
        entries = []
        present: set[str] = set()
        for view in await ctx.sources():
            never = view.last_success is None and view.consecutive_failures > 0
            if not (view.stale or never):
                continue
            topic = f"stale:{view.source}"
            present.add(topic)
            # Stale counts from when the sentinel first saw it so, too: after a night with the
            # laptop shut every source is hours old until its first poll, which is no news.
            seen = parse_time(mem.episode(topic, now_s, view.last_success))
            if view.last_success is not None:
                last = parse_time(view.last_success)
                since = max(last + dt.timedelta(seconds=view.stale_after), seen)
                ident = view.last_success
                what = f"{view.source}: no fresh data since {moment_words(last, ctx.zone, today)}"
            else:
                since = seen
                ident = f"never@{utc_iso(since)}"
                what = f"{view.source}: has not worked since {moment_words(since, ctx.zone, today)}"
            if (now - since).total_seconds() < stale_for:
                continue
            if view.status == "needs_human":
                what += " (it needs you)"
            if view.last_error:
                what += f"; last error: {cut(view.last_error, 160)}"
            entries.append({
                "id": f"stale:{view.source}#{ident}", "kind": "stale", "label": view.source, "text": what,
                "command": f"oxymus refresh {view.source}",
                "ref": InputRef(kind="source", ref=view.source, note=f"status {view.status}").model_dump(),
            })
        mem.close_absent("stale:", present, now_s)
        return entries

    def _approvals(self, ctx, waiting, s: SentinelSettings, mem: Memory, now: dt.datetime, today: dt.date) -> list[Notice]:
        """Once one waits longer than approvals_after, a reminder of every one waiting at least half that, not yet reminded."""
        after = dt.timedelta(seconds=parse_duration(s.approvals_after))
        out = []
        ripe = False
        for action in sorted(waiting, key=lambda a: a.updated_at):
            if action.proposer.type == "agent" and action.proposer.name == self.name:
                continue  # never a reminder about a reminder
            try:
                since = parse_time(action.updated_at)
            except ValueError:
                continue
            if now - since < after / 2 or f"approval:{action.id}" in mem.sent:
                continue
            ripe = ripe or now - since >= after
            summary = cut(action.preview.summary or action.kind, 120)
            at = moment_words(since, ctx.zone, today)
            out.append(Notice(
                category="approvals", topic=f"approval:{action.id}",
                title=cut(f"Waiting for your approval since {at}: {summary}", 200),
                body=f"{summary}\nproposed by {action.proposer.label()}" + (f": {cut(action.reason, 300)}" if action.reason else "")
                     + "\nDecide with `oxymus approvals` (or in the TUI).",
                line=f"{summary} ({action.proposer.label()}, since {at})", label=f"approval {action.id}", short=summary,
                urgent=False, reason=f"action {action.id} ({action.kind}) has waited for a decision since {at}",
                inputs=[InputRef(kind="action", ref=action.id, note=action.kind)], at=at,
            ))
        return out if ripe else []

    # --- saying it ---------------------------------------------------------------------

    @staticmethod
    def _groups(notices: list[Notice]) -> list[list[Notice]]:
        """One notification per notice, except several of one coalescing kind make one together."""
        groups: list[list[Notice]] = []
        by_kind: dict[str, list[Notice]] = {}
        for n in notices:
            if n.category in COALESCE:
                if n.category not in by_kind:
                    by_kind[n.category] = []
                    groups.append(by_kind[n.category])
                by_kind[n.category].append(n)
            else:
                groups.append([n])
        return groups

    @staticmethod
    def _key(group: list[Notice]) -> str:
        if len(group) == 1:
            key = f"sentinel:{group[0].topic}"
            return key if len(key) <= 300 else f"sentinel:{group[0].category}:{short_hash([group[0].topic])}"
        return f"sentinel:{group[0].category}:{short_hash([n.topic for n in group])}"

    @staticmethod
    def _payload(group: list[Notice], quiet: bool) -> dict[str, Any]:
        first = group[0]
        urgency = "critical" if quiet and first.urgent else "normal"
        facts = [f if len(f) <= 300 else f"{n.category}:{short_hash([f])}" for n in group for f in [n.fact or n.topic]]
        about = {"kind": KINDS.get(first.category, "general"), "facts": facts}
        if len(group) == 1:
            return {"title": cut(first.title, 200), "body": first.body[:2000], "urgency": urgency, **about}
        n = len(group)
        shorts = ", ".join(x.short for x in group[:4]) + ("…" if n > 4 else "")
        title = {
            "ci": f"CI failed on {n} of your PRs: {shorts}",
            "review": f"{n} reviews requested: {shorts}",
            "bill": f"{n} bills overdue: {shorts}",
            "approvals": f"{n} approvals waiting, the oldest since {first.at}",
        }.get(first.category, f"{n} {first.category}: {shorts}")
        lines = [f"- {x.line}" for x in group[:MAX_LINES]]
        if n > MAX_LINES:
            lines.append(f"- and {n - MAX_LINES} more")
        if first.category == "approvals":
            lines.append("Decide with `oxymus approvals` (or in the TUI).")
        elif first.category in ("ci", "review"):
            lines.append("`oxymus today` lists your pull requests.")
        return {"title": cut(title, 200), "body": "\n".join(lines)[:2000], "urgency": urgency, **about}

    # --- the digest --------------------------------------------------------------------

    async def _digest(self, ctx, s: SentinelSettings, mem: Memory, entries: list[dict[str, Any]], now: dt.datetime,
                      today: dt.date, hold: bool) -> str:
        """Fold today's minor items into the day's digest; at digest_at, one notification if it has anything new."""
        now_s = utc_iso(now)
        key = today.isoformat()
        found = [a for a in await ctx.artifacts("digest", agent=self.name, limit=10) if a.key == key]
        data: dict[str, Any] = dict(found[0].data) if found else {}
        listed = [dict(e) for e in data.get("entries") or [] if isinstance(e, dict) and e.get("id")]
        known = {e["id"]: e for e in listed}
        current = {e["id"] for e in entries}
        changed = added = 0
        for e in entries:
            old = known.get(e["id"])
            if old is None:
                new = {**e, "seen_at": now_s, "resolved_at": None}
                listed.append(new)
                known[e["id"]] = new
                changed = added = added + 1
            elif old.get("resolved_at"):
                old["resolved_at"] = None
                changed = 1
        for e in listed:
            if e["id"] not in current and not e.get("resolved_at"):
                e["resolved_at"] = now_s  # kept in the record; a recovery is not announced
                changed = 1
        notes = [f"digest {key}: {plural(added, 'new item')}"] if added else []

        open_now = [e for e in listed if not e.get("resolved_at")]
        unsaid = [e for e in open_now if e["id"] not in mem.digested]
        due = now.astimezone(ctx.zone).time() >= parse_clock(s.digest_at)
        if due and unsaid and not hold and mem.digest_day != key:
            said = [e for e in open_now if e not in unsaid]
            payload, llm_part = await self._digest_payload(ctx, today, unsaid, said)
            inputs = [InputRef(kind="artifact", ref=f"digest/{key}", note=f"{len(open_now)} open items")]
            inputs += [InputRef(**e["ref"]) for e in unsaid[:40] if isinstance(e.get("ref"), dict)]
            action = await ctx.propose("notify.send", payload, key=f"sentinel:digest:{key}", inputs=inputs,
                                       confidence=derive("moderate", support=len(unsaid) - 1, llm=llm_part).value,
                                       reason=f"the digest of {key} has {plural(len(unsaid), 'new item')} at digest_at {s.digest_at}")
            if action is not None:
                mem.digest_day = key
                for e in open_now:
                    mem.digested[e["id"]] = now_s
                data["notified_at"] = now_s
                changed = 1
                notes.append("digest notification proposed")
        if changed and listed:
            data.update({"date": key, "entries": listed})
            await ctx.artifact("digest", key, self._digest_title(today, listed), self._digest_text(ctx, today, listed, data),
                               data=data, filename=f"{key}.md")
        return ", ".join(notes)

    @staticmethod
    def _digest_title(today: dt.date, listed: list[dict[str, Any]]) -> str:
        open_now = sum(1 for e in listed if not e.get("resolved_at"))
        return f"Digest, {today:%a} {today.day} {today:%b}: {plural(open_now, 'open item')}" + (
            f" ({len(listed) - open_now} resolved)" if len(listed) > open_now else "")

    @staticmethod
    def _digest_text(ctx, today: dt.date, listed: list[dict[str, Any]], data: dict[str, Any]) -> str:
        def at(iso: str) -> str:
            return moment_words(parse_time(iso), ctx.zone, today)

        lines = [f"# Digest for {today:%A} {today.day} {today:%B %Y}", "",
                 "Minor things that turned up today. `oxymus today` has the whole day.", ""]
        for e in listed:
            line = f"- {at(e['seen_at'])}  {e['text']}  `{e['command']}`"
            if e.get("resolved_at"):
                line += f"  (gone at {at(e['resolved_at'])})"
            lines.append(line)
        if data.get("notified_at"):
            lines += ["", f"Notified at {at(data['notified_at'])}."]
        return "\n".join(lines) + "\n"

    async def _digest_payload(self, ctx, today: dt.date, unsaid: list[dict[str, Any]],
                              said: list[dict[str, Any]]) -> tuple[dict[str, Any], LlmPart]:
        day = f"{today:%a} {today.day} {today:%b}"
        shorts = [e["text"] for e in unsaid[:2]]
        title = f"Digest, {day}: " + "; ".join(shorts) + (f" and {len(unsaid) - 2} more" if len(unsaid) > 2 else "")
        lines = [f"- {e['text']}: `{e['command']}`" for e in unsaid[:MAX_LINES]]
        if len(unsaid) > MAX_LINES:
            lines.append(f"- and {len(unsaid) - MAX_LINES} more")
        if said:
            lines.append("Still open from before: " + ", ".join(e["label"] for e in said[:6]) + ("…" if len(said) > 6 else ""))
        lines.append("`oxymus artifacts digest` shows the day.")
        body = "\n".join(lines)
        llm: LlmPart = "none"
        if ctx.llm is not None:
            wording = await self._word(ctx, day, unsaid, said)
            llm = "invalid" if wording is None else "validated"
            if wording is not None:
                title, body = wording.title, wording.intro + "\n" + body
        return {"title": cut(title, 200), "body": body[:2000], "urgency": "low", "kind": "digest",
                "facts": [f"digest:{today.isoformat()}"]}, llm

    async def _word(self, ctx, day: str, unsaid: list[dict[str, Any]], said: list[dict[str, Any]]) -> DigestWording | None:
        """The LLM's title and opening line for the digest, or None; every number in them must be one of the facts."""
        from oxymus.agents.llm import Section

        facts = "\n".join([f"Day: {day}", "New today:"] + [f"- {e['text']}" for e in unsaid]
                          + (["Still open from before:"] + [f"- {e['text']}" for e in said] if said else []))
        wording = await ctx.llm.chat_json(
            self.role, [Section(name="digest items", text=facts, priority=1)],
            "Write the title (at most 80 characters) and a one- or two-sentence opening line of this evening's "
            "digest notification. The list of items is shown below your text, so summarise, do not repeat it. "
            "Use only the facts given: no date, time, amount or number that is not in them.",
            model_cls=DigestWording,
        )
        if wording is None:
            ctx.note("LLM gave no usable digest wording; kept the plain one")
            return None
        allowed = set(re.findall(r"\d+", facts))
        invented = [n for n in re.findall(r"\d+", f"{wording.title} {wording.intro}") if n not in allowed]
        if invented:
            ctx.note(f"LLM digest wording refused (numbers not in the facts: {', '.join(invented[:5])}); kept the plain one")
            return None
        return DigestWording(title=" ".join(wording.title.split()), intro=" ".join(wording.intro.split()))
