"""Intake: new mail and "lead:" captures become lead records and reply drafts.

One run:

1. Mail. The Maildir at `[agents.intake] maildir`, else `[mail] maildir` (what mbsync, offlineimap, notmuch,
   aerc and mutt keep) is read read-only through the mail connector's reader (`ctx.maildir`):
   only messages not seen before, remembered by file name and Message-ID in the agent's
   state. Captures: the open ones starting with "lead:" (or prospect/inquiry), each once.
2. Facts. `intake_extract` finds who, company, domain, need, budget and dates by code;
   with an LLM the name, company and need it found weakly (or not) are improved, and
   only kept when the words are in the message (the model may not invent a person or a
   company). Dates and amounts are code's alone.
3. Leads. Deduplicated: the same address is the same lead; the same domain (not a free
   mail one) is the same lead unless the two names clearly differ (no word in common).
   Against existing leads and among the run's messages alike. A new lead is a
   `record.create` (the message as provenance, a link to its Message-ID or capture); a
   known one gets a `record.update` filling what it lacked, with the link. A message whose
   lead still waits for approval is not marked seen, so it is read again once the lead exists.
4. Reply. For each new lead from an email, an `email.send` draft answering the first
   message (In-Reply-To and References set; a polite template, no LLM), keyed by its
   Message-ID so it is proposed once. It is external: it waits for the person's approval.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from oxymus.actions.model import InputRef
from oxymus.agents.base import Agent, AgentSettings, Finished, RecordPort, Trigger
from oxymus.agents.intake_extract import FREE_MAIL, LeadFacts, TextFact, from_email, from_text
from oxymus.kernel.cpu_pool import breathe

LEAD_CAPTURE = re.compile(r"^\s*(?:lead|prospect|inquiry|enquiry)\s*[:\-]", re.I)
STATE_KEY = "maildir_seen"
CAPTURES_KEY = "captures_seen"
MAX_LINKS = 100  # links one record.create or record.update carries (its payload's bound)
WAITING = ["proposed", "awaiting_approval", "approved", "executing", "snoozed"]


class IntakeSettings(AgentSettings):
    maildir: str | None = Field(default=None, description="a Maildir folder to read new mail from (never changed); default: [mail] maildir")
    reply: bool = Field(default=True, description="propose a reply draft (email.send) to each new lead's first message")
    signature: str = Field(default="", description="the name the reply drafts are signed with")


class LlmLead(BaseModel):
    """What the LLM may improve; dates and amounts are never asked of it."""

    name: str | None = Field(default=None, max_length=200, description="the person who wrote, as written in the message")
    company: str | None = Field(default=None, max_length=200, description="their company, as written in the message")
    need: str | None = Field(default=None, max_length=300, description="what they ask for, in a short phrase")


@dataclass
class Item:
    """One message or capture, with the facts found in it."""

    ref: str  # Message-ID or capture id
    kind: str  # email or capture
    facts: LeadFacts
    text: str
    subject: str = ""
    sender: str = ""
    sender_name: str = ""
    references: list[str] = field(default_factory=list)
    reply_ok: bool = False
    day: dt.date | None = None
    mail_key: str = ""


@dataclass
class Lead:
    items: list[Item]
    record: Any = None  # an existing lead record
    email: str | None = None
    domain: str | None = None
    name: str | None = None


def _identity(facts: LeadFacts) -> tuple[str | None, str | None, str | None]:
    email = facts.who.email if facts.who and facts.who.email else None
    domain = facts.domain.value if facts.domain else None
    if domain in FREE_MAIL:
        domain = None
    return email, domain, facts.who.name if facts.who else None


def names_differ(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    words = lambda n: {w for w in re.findall(r"[a-zà-ÿ]+", n.lower()) if len(w) > 1}  # noqa: E731
    return not (words(a) & words(b))


def _matches(email, domain, name, l_email, l_domain, l_name) -> bool:
    if email and l_email and email == l_email.lower():
        return True
    return bool(domain and l_domain and domain == l_domain.lower() and not names_differ(name, l_name))


def lead_fields(facts: LeadFacts, day: dt.date | None, source: str) -> dict[str, Any]:
    email, _domain, name = _identity(facts)
    company = facts.company.value if facts.company else None
    out: dict[str, Any] = {"name": name or company or email or "Unknown lead", "email": email, "company": company,
                           "domain": facts.domain.value if facts.domain else None,
                           "need": facts.need.value if facts.need else None,
                           "budget": facts.budget.amount if facts.budget else None,
                           "first_contact": day.isoformat() if day else None, "source": source}
    return {k: v for k, v in out.items() if v is not None}


def describe_facts(facts: LeadFacts) -> str:
    lines = []
    if facts.budget:
        top = f"-{facts.budget.amount_max:g}" if facts.budget.amount_max else ""
        lines.append(f"Budget: {facts.budget.amount:g}{top} {facts.budget.currency or ''}".rstrip())
    for d in facts.dates:
        lines.append(f"When: {d.start.isoformat()}" + (f" to {d.end.isoformat()}" if d.end != d.start else "")
                     + f" ({d.precision}; \"{d.evidence}\")")
    return "\n".join(lines)


def reply_body(item: Item, signature: str) -> str:
    first = (item.facts.who.name or "").split()[0] if item.facts.who and item.facts.who.name else ""
    need = item.facts.need.value if item.facts.need and item.facts.need.confidence >= 0.5 else ""
    about = f" about {need[0].lower() + need[1:]}" if need else ""
    lines = [f"Hello {first}," if first else "Hello,", "",
             f"Thank you for getting in touch{about}. I would be glad to help.", "",
             "Could you tell me a little more about what you have in mind, and when would suit you for a short call?",
             "I will come back to you with a proposal.", "", "Best regards,"]
    if signature:
        lines.append(signature)
    return "\n".join(lines) + "\n"


def read_mail(msg: Any, own: str | None, zone: dt.tzinfo, today: dt.date) -> Item | str:
    """One new message as an item, or why it is not read as a lead (runs in the runtime's worker process).

    Lists, newsletters, auto-replies, no-reply senders and the person's own mail are seen but never
    leads: no one there is a client to win or a person to answer."""
    why = msg.automated or ("your own address" if own and msg.sender and msg.sender.email.lower() == own else "")
    return why or _from_mail(msg, zone, today)


def _from_mail(msg: Any, zone: dt.tzinfo, today: dt.date) -> Item:
    sender = msg.reply_to[0] if msg.reply_to else msg.sender
    day = msg.date.astimezone(zone).date() if msg.date else today
    facts = from_email(from_name=sender.name if sender else "", from_email=sender.email if sender else "",
                       subject=msg.subject, body=msg.body, today=day)
    return Item(ref=msg.message_id, kind="email", facts=facts, text=f"{msg.subject}\n{msg.body}", subject=msg.subject,
                sender=sender.email if sender else "", sender_name=sender.name if sender else "",
                references=[*msg.references, msg.message_id] if not msg.id_generated else [],
                reply_ok=bool(sender) and not msg.id_generated, day=day, mail_key=msg.key)


def _in_text(value: str | None, text: str) -> bool:
    return bool(value) and value.lower() in text.lower()


class Intake(Agent):
    name = "intake"
    role = ("Intake turns new mail and lead captures into lead records and reply drafts. It reads the Maildir "
            "read-only, finds who wrote, their company, what they need, their budget and dates, keeps one lead per "
            "person or company, and drafts a short, polite reply for the person to approve. It never invents a name, "
            "a company or a number: what the message does not say stays empty.")
    reads = ("mail", "captures", "records:lead", "actions")
    proposes = ("record.create", "record.update", "email.send")
    produces = (RecordPort(kind="lead", status="new"),)
    validates = ("one lead per address, or per company domain",)
    trigger = Trigger(every="15m")
    also_on = ("capture.added",)
    Settings = IntakeSettings
    confidence_rule = (
        "the mean confidence of the facts found (who, company, need, budget), each from where it was read: a sender's "
        "display name is strong, a name guessed from an address weak; a fact the LLM improved keeps code's confidence "
        "at most 0.7, and a lead with no fact at all is 0.3."
    )

    async def run(self, ctx) -> str | Finished:
        s: IntakeSettings = ctx.settings  # type: ignore[assignment]
        items: list[Item] = []
        seen = await ctx.recall(STATE_KEY)
        try:
            # Read and picked apart in the runtime's worker process: a first run over years of mail is seconds
            # of pure CPU, and the daemon's loop must answer the TUI meanwhile (bench/intake_maildir.py).
            read = await ctx.maildir(s.maildir, seen, read_mail, ctx.zone, ctx.today())  # None: no Maildir set
        except Exception as exc:  # noqa: BLE001 - a Maildir gone or unreadable: the person fixes the path
            if type(exc).__name__ == "MaildirError":
                return Finished.stopped(f"{exc}: set [agents.intake] maildir (or [mail] maildir) to a Maildir folder")
            raise
        scan, digests = read if read is not None else (None, [])
        items += [d for d in digests if isinstance(d, Item)]
        skipped = [d for d in digests if isinstance(d, str)]
        for why, n in Counter(w.split(" (")[0] for w in skipped).most_common():
            ctx.note(f"{n} message(s) not read as leads: {why}")
        done_captures: list[str] = list(await ctx.recall(CAPTURES_KEY) or [])
        for capture in await ctx.captures("open"):
            if capture.id not in done_captures and LEAD_CAPTURE.match(capture.text):
                facts = from_text(capture.text, today=ctx.today())
                items.append(Item(ref=capture.id, kind="capture", facts=facts, text=capture.text, day=ctx.today()))
        if ctx.llm is not None:
            for item in items:
                item.facts = await self._improve(ctx, item)
        leads, deferred = await self._group(ctx, items)
        created = updated = drafts = 0
        for lead in leads:
            if lead.record is None:
                created += await self._create(ctx, lead)
                if s.reply and (first := next((i for i in lead.items if i.reply_ok), None)) is not None:
                    drafts += await self._reply(ctx, first, s.signature)
            else:
                updated += await self._update(ctx, lead)
        if scan is not None:
            state = scan.state.model_dump(mode="json")
            # Read again next time: its lead still waits for approval, so there is nothing to link it to yet.
            for item in deferred:
                if item.kind == "email":
                    state["keys"] = [k for k in state["keys"] if k != item.mail_key]
                    state["ids"] = [i for i in state["ids"] if i != item.ref]
            await ctx.remember(STATE_KEY, state)
        done_captures += [i.ref for i in items if i.kind == "capture" and i not in deferred]
        await ctx.remember(CAPTURES_KEY, done_captures[-2000:])
        parts = [f"{len(items)} new message(s) or lead capture(s)", f"{created} lead(s) proposed", f"{updated} update(s)",
                 f"{drafts} reply draft(s)"]
        if deferred:
            parts.append(f"{len(deferred)} waiting for their lead's approval")
        if skipped:
            parts.append(f"{len(skipped)} from lists, robots or yourself skipped")
        return ", ".join(parts)

    async def _improve(self, ctx, item: Item) -> LeadFacts:
        """Ask the LLM for what code found weakly; keep an answer only where the message says it."""
        from oxymus.agents.llm import Section

        f = item.facts
        weak = [name for name, fact in (("name", f.who), ("company", f.company), ("need", f.need))
                if fact is None or fact.confidence < 0.6 or (name == "name" and not (f.who and f.who.name))]
        if not weak:
            return f
        task = (f"Who wrote this message, for which company, and what do they ask for? Answer only from the message; "
                f"leave a field empty when the message does not say it. Most wanted: {', '.join(weak)}.")
        answer = await ctx.llm.chat_json(self.role, [Section(name="message", text=item.text[:6000])], task,
                                         model_cls=LlmLead, stream_to=ctx.progress)
        if answer is None:
            return f
        update: dict[str, Any] = {}
        if "name" in weak and _in_text(answer.name, item.text + " " + item.sender_name) and f.who is not None:
            update["who"] = f.who.model_copy(update={"name": answer.name.strip(), "confidence": min(0.7, max(f.who.confidence, 0.6))})
        if "company" in weak and _in_text(answer.company, item.text):
            update["company"] = TextFact(value=answer.company.strip(), confidence=0.6, where="body", evidence="LLM")
        if "need" in weak and answer.need and answer.need.strip():
            update["need"] = TextFact(value=answer.need.strip(), confidence=0.6, where="body", evidence="LLM")
        return f.model_copy(update=update)

    # --- deduplication --------------------------------------------------------------------

    async def _group(self, ctx, items: list[Item]) -> tuple[list[Lead], list[Item]]:
        existing = await ctx.records("lead", limit=2000)
        pending = [a for a in await ctx.actions(WAITING) if a.kind == "record.create" and a.proposer.name == self.name
                   and a.payload.get("kind") == "lead"]
        leads: list[Lead] = []
        deferred: list[Item] = []
        for n, item in enumerate(items, 1):
            if n % 100 == 0:
                await breathe()  # a first run groups thousands: let the daemon answer between
            email, domain, name = _identity(item.facts)
            if not email and not domain:
                # A capture names a company at most: the same company name is the same lead.
                company = (item.facts.company.value if item.facts.company else "").lower()
                record = next((r for r in existing if company and company in ((r.fields.get("company") or "").lower(),
                                                                              r.title.lower())), None)
                leads.append(Lead(items=[item], record=record, name=name))
                continue
            match = next((lead for lead in leads if _matches(email, domain, name, lead.email, lead.domain, lead.name)), None)
            if match is None:
                record = next((r for r in existing if _matches(email, domain, name, r.fields.get("email"),
                                                                 r.fields.get("domain") if r.fields.get("domain") not in FREE_MAIL else None,
                                                                 r.fields.get("name"))), None)
                waiting = next((a for a in pending if _matches(email, domain, name, a.payload["fields"].get("email"),
                                                                a.payload["fields"].get("domain") if a.payload["fields"].get("domain")
                                                                not in FREE_MAIL else None, a.payload["fields"].get("name"))), None)
                if record is None and waiting is not None:
                    deferred.append(item)
                    ctx.note(f"{item.ref}: its lead waits for approval (action {waiting.id[:10]})")
                    continue
                match = Lead(items=[], record=record, email=email, domain=domain, name=name)
                leads.append(match)
            match.items.append(item)
        return leads, deferred

    # --- proposing ------------------------------------------------------------------------

    def _linked(self, items: list[Item]) -> list[Item]:
        """The items a proposal links and cites: all of them, or the first and the latest when a lead's
        mail is more than a proposal holds (a first run over years of one company's mail)."""
        return items if len(items) <= MAX_LINKS else [items[0], *items[-(MAX_LINKS - 1):]]

    def _links(self, items: list[Item]) -> list[dict[str, str]]:
        return [{"target_type": i.kind, "target_ref": i.ref, "relation": "from"} for i in self._linked(items)]

    def _confidence(self, facts: LeadFacts) -> float:
        found = [x.confidence for x in (facts.who, facts.company, facts.need, facts.budget) if x is not None]
        return round(sum(found) / len(found), 2) if found else 0.3

    def _inputs(self, items: list[Item]) -> list[InputRef]:
        return [InputRef(kind=i.kind, ref=i.ref, note=(i.subject or i.text)[:200]) for i in self._linked(items)]

    async def _create(self, ctx, lead: Lead) -> int:
        first = lead.items[0]
        fields = lead_fields(first.facts, first.day, "email" if first.kind == "email" else "capture")
        for later in lead.items[1:]:  # a later message fills what the first did not say
            for k, v in lead_fields(later.facts, later.day, "").items():
                fields.setdefault(k, v)
        body = "\n\n".join(dict.fromkeys(b for b in (describe_facts(i.facts) for i in lead.items) if b))
        if len(lead.items) > MAX_LINKS:
            body = (f"{len(lead.items)} messages; linked: the first and the latest {MAX_LINKS - 1}.\n\n" + body).strip()
        payload = {"kind": "lead", "fields": fields, "body": body[:100_000], "links": self._links(lead.items),
                   "source": "connector" if first.kind == "email" else "capture", "ref": first.ref,
                   "note": f"intake: {first.subject or first.text}"[:500]}
        action = await ctx.propose("record.create", payload, reason=f"a new lead from {first.kind} {first.ref}",
                                   inputs=self._inputs(lead.items), confidence=self._confidence(first.facts),
                                   key=f"intake:lead:{first.ref}")
        return 1 if action is not None else 0

    async def _update(self, ctx, lead: Lead) -> int:
        record = lead.record
        fields: dict[str, Any] = {}
        for item in lead.items:
            for k, v in lead_fields(item.facts, item.day, "").items():
                if record.fields.get(k) in (None, "") and k not in ("name", "source", "first_contact"):
                    fields.setdefault(k, v)
        payload = {"id": record.id, "fields": fields, "links": self._links(lead.items),
                   "note": f"intake: {lead.items[0].subject or lead.items[0].text}"[:200]}
        action = await ctx.propose("record.update", payload, reason=f"more about the lead {record.title}",
                                   inputs=self._inputs(lead.items), confidence=self._confidence(lead.items[0].facts),
                                   key=f"intake:update:{lead.items[0].ref}")
        return 1 if action is not None else 0

    async def _reply(self, ctx, item: Item, signature: str) -> int:
        subject = item.subject if re.match(r"^\s*re\s*:", item.subject, re.I) else f"Re: {item.subject}".strip()
        to = f"{item.sender_name} <{item.sender}>" if item.sender_name and "," not in item.sender_name else item.sender
        payload = {"to": [to], "subject": subject[:900] or "Re: your message", "body": reply_body(item, signature),
                   "in_reply_to": item.ref, "references": item.references[-20:]}
        action = await ctx.propose("email.send", payload, reason=f"a reply to {item.sender_name or item.sender}, a new lead",
                                   inputs=self._inputs([item]), confidence=self._confidence(item.facts),
                                   key=f"intake:reply:{item.ref}")
        return 1 if action is not None else 0
