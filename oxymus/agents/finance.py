"""Finance: reminders for bills due soon or overdue, and the payment to confirm once paid.

Each morning (08:00 by default) it reads the bills due (`state:bills.due`, from
bills.toml) and what was already recorded or proposed (`actions`):

- Which due dates are paid comes from Oxymus' payment records (`ctx.payments`).
  Statuses follow the Today view (`oxymus.today.view`): paid, then autopay, then
  overdue / due today / upcoming. Autopay
  bills get no reminder and no payment to confirm: they are paid by themselves.
- Each overdue bill, and each due within `remind_days`, gets one `notify.send` a day
  (key: bill, due date and today), `critical` when overdue, else `normal`.
- When the bill has a pay URL, it proposes `bills.mark_paid` for that due date, once
  (key: bill and due date), unless one is already recorded or waiting: the reason
  says where to pay, and the person's approval is the confirmation that they paid.
  Policy decides the rest: an agent's proposal of an own-files change waits for
  approval by default, and a rule such as `amount > 200` keeps big ones waiting.
- A `bills_digest` artifact (key: the date) lists every bill and what was done.

The LLM, when available, may word the reminders; each wording must state no number or
weekday the facts do not hold, and the pay/record instruction is always added by code.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from oxymus.actions.model import InputRef
from oxymus.agents.base import Agent, AgentSettings, Trigger
from oxymus.agents.confidence import Confidence, LlmPart, derive
from oxymus.kernel.wording import day_words, long_day, money, only_known_facts, relative_days
from oxymus.today.view import TodayBill, build

WAITING = ["proposed", "awaiting_approval", "snoozed", "approved", "executing"]


def reminder_confidence(status: str, asked: bool, worded: bool) -> Confidence:
    """See `Finance.confidence_rule`."""
    llm: LlmPart = "none" if not asked else "validated" if worded else "invalid"
    return derive("certain" if status == "overdue" else "strong" if status == "due_today" else "moderate", llm=llm)


class FinanceSettings(AgentSettings):
    """`[agents.finance]`"""

    remind_days: int = Field(default=3, ge=0, le=60, description="bills due within this many days (and overdue ones) get a daily reminder")


class DigestBill(BaseModel):
    bill: str
    name: str
    amount: float
    currency: str
    due: str
    days_left: int
    status: str = Field(description="overdue | due_today | upcoming | paid | autopay")
    url: str | None = None
    reminder: str | None = Field(default=None, description="the notify.send action id, when reminded today")
    reminded_now: bool = Field(default=False, description="the reminder was proposed by this run (not an earlier one today)")
    worded_by: str | None = Field(default=None, description="rules or llm")
    mark_paid: str | None = Field(default=None, description="the bills.mark_paid action for this due date, if any")
    mark_paid_status: str | None = None


class BillsDigest(BaseModel):
    date: str
    remind_days: int
    bills: list[DigestBill] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list, description="bills.toml entries that could not be read")


class _Wording(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="the bill's id from the list")
    title: str = Field(min_length=3, max_length=120, description="one line")
    body: str = Field(min_length=3, max_length=400, description="one or two short sentences")


class _Reminders(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reminders: list[_Wording] = Field(max_length=30)


class _Reminder(BaseModel):
    bill: TodayBill
    title: str
    facts: str
    instruction: str
    body: str = ""
    worded_by: str = "rules"


class Finance(Agent):
    name = "finance"
    role = (
        "The finance agent keeps the person's bills from slipping: it reminds them of bills due soon or overdue, "
        "says where to pay, and asks them to confirm each payment so it is recorded. It never pays anything and "
        "never guesses amounts or dates: they come from bills.toml. Reminders are short, calm and concrete."
    )
    reads = ("state:bills.due", "state:bills.error", "actions", "memory:hot")
    proposes = ("notify.send", "bills.mark_paid")
    trigger = Trigger(at="08:00")
    Settings = FinanceSettings
    confidence_rule = (
        "A reminder is as sure as the bill's date rule: overdue certain, due today strong, due within remind_days "
        "moderate. With an LLM, its wording validated against the bill's facts, or did not (the rules' wording is "
        "sent, less sure). Recording a payment is the person's to confirm: moderate, with being overdue one "
        "supporting signal."
    )

    async def run(self, ctx: Any) -> str:
        s: FinanceSettings = self.settings  # type: ignore[assignment]
        day, now = ctx.today(), ctx.now()
        items = await ctx.state(["bills.due"]) + await ctx.state(["bills.error"])
        paid = await ctx.payments(sorted({i.data.get("bill", "") for i in items if i.kind == "bills.due"}))
        recent = await ctx.actions(None, limit=1000)
        pending = {(a.payload.get("bill"), a.payload.get("due")): a for a in recent if a.kind == "bills.mark_paid" and a.status in WAITING}
        by_key = {a.idempotency_key: a for a in recent}
        today = build(day, ctx.zone, now, items, [], paid)  # type: ignore[arg-type]
        digest = BillsDigest(date=day.isoformat(), remind_days=s.remind_days,
                             problems=[p.message for p in today.problems])

        due = [b for b in today.bills if b.status in ("overdue", "due_today") or (b.status == "upcoming" and b.days_left <= s.remind_days)]
        entries: dict[tuple[str, str], DigestBill] = {}
        for b in today.bills:
            entries[(b.bill, b.due)] = DigestBill(bill=b.bill, name=b.name, amount=b.amount, currency=b.currency, due=b.due,
                                                  days_left=b.days_left, status=b.status, url=b.url)

        # The payment to confirm, proposed before the reminder so the reminder can say what to do.
        confirms = 0
        asks: dict[tuple[str, str], str] = {}  # what the approval request is called, to name it in the reminder
        for b in due:
            entry = entries[(b.bill, b.due)]
            action = pending.get((b.bill, b.due))
            if action is None and b.url:
                action = await ctx.propose(
                    "bills.mark_paid", {"bill": b.bill, "due": b.due},
                    reason=f"Pay at {b.url}, then approve this to record the payment "
                           f"({b.name}, {money(b.amount, b.currency)} due {day_words(dt.date.fromisoformat(b.due))})",
                    inputs=[InputRef(kind="state", ref=f"bills.due:{b.bill}@{b.due}", note=b.name)],
                    key=f"finance:paid:{b.bill}@{b.due}", confidence=derive("moderate", support=int(b.status == "overdue")).value,
                )
                if action is not None and action.proposer.run_id == ctx.run_id:
                    confirms += 1
            if action is not None:
                entry.mark_paid, entry.mark_paid_status = action.id, action.status
                asks[(b.bill, b.due)] = action.preview.summary

        # One reminder per bill, due date and day: today's earlier ones stand (and are not worded again).
        reminders = []
        for b in due:
            earlier = by_key.get(self._key(b, day))
            if earlier is not None:
                entries[(b.bill, b.due)].reminder = earlier.id
            else:
                reminders.append(self._reminder(b, entries[(b.bill, b.due)], day, asks.get((b.bill, b.due))))
        asked = ctx.llm is not None and bool(reminders)
        if asked:
            await self._word(ctx, reminders, day)
        new = overdue = 0
        for r in reminders:
            b = r.bill
            body = f"{r.body}\n{r.instruction}" if r.body else r.instruction
            action = await ctx.propose(
                "notify.send", {"title": r.title[:200], "body": body[:2000], "urgency": "critical" if b.status == "overdue" else "normal",
                                # The sentinel announces an overdue bill under the same fact: said once a day, by whoever is first.
                                "kind": "bill", "facts": [f"bill:{b.bill}@{b.due}:{'overdue' if b.status == 'overdue' else 'due'}:{day.isoformat()}"]},
                reason=f"{b.name} is {self._state(b)}: one reminder a day until it is paid",
                inputs=[InputRef(kind="state", ref=f"bills.due:{b.bill}@{b.due}", note=b.name)],
                key=self._key(b, day), confidence=reminder_confidence(b.status, asked, r.worded_by == "llm").value,
            )
            entry = entries[(b.bill, b.due)]
            if action is not None:
                entry.reminder = action.id
                entry.reminded_now = action.proposer.run_id == ctx.run_id
                if entry.reminded_now:
                    entry.worded_by = r.worded_by
                    new += 1
                    overdue += b.status == "overdue"
        digest.bills = list(entries.values())
        await ctx.artifact("bills_digest", day.isoformat(), f"Bills on {long_day(day)}", self._render(digest, day),
                           data=digest.model_dump(mode="json"))
        return self._summary(digest, due, new, overdue, confirms, s.remind_days)

    # -- parts

    @staticmethod
    def _key(b: TodayBill, day: dt.date) -> str:
        return f"finance:remind:{b.bill}@{b.due}:{day.isoformat()}"

    @staticmethod
    def _state(b: TodayBill) -> str:
        if b.status == "overdue":
            return f"overdue since {day_words(dt.date.fromisoformat(b.due))}"
        return "due today" if b.status == "due_today" else f"due {relative_days(b.days_left)}"

    def _reminder(self, b: TodayBill, entry: DigestBill, day: dt.date, ask: str | None) -> _Reminder:
        when = day_words(dt.date.fromisoformat(b.due))
        amount = money(b.amount, b.currency)
        if b.status == "overdue":
            late = -b.days_left
            title = f"Overdue: {b.name} {amount} (due {when})"
            facts = f"{b.name}, {amount}, was due {when}: {late} day{'s' if late != 1 else ''} overdue."
        elif b.status == "due_today":
            title = f"Due today: {b.name} {amount}"
            facts = f"{b.name}, {amount}, is due today ({when})."
        else:
            title = f"Due {when}: {b.name} {amount}"
            facts = f"{b.name}, {amount}, is due {relative_days(b.days_left)} ({when})."
        if entry.mark_paid and entry.mark_paid_status in WAITING:
            instruction = (f"Pay at {b.url}, then approve " if b.url else "Once paid, approve ") + f"“{ask}” (oxymus approvals)."
        else:
            instruction = (f"Pay at {b.url}, then record it: " if b.url else "Once paid, record it: ") + f"oxymus paid {b.bill} --due {b.due}"
        return _Reminder(bill=b, title=title, facts=facts, body=facts, instruction=instruction)

    async def _word(self, ctx: Any, reminders: list[_Reminder], day: dt.date) -> None:
        """Let the LLM word the reminders; each wording is checked against its facts, else the rules' stays."""
        from oxymus.agents.llm import Section

        by_id = {f"b{n}": r for n, r in enumerate(reminders, start=1)}
        hot = await ctx.memory("hot", limit=20)
        sections = [
            Section(name="bills (id | facts)", text="\n".join(f"{i} | {r.facts}" for i, r in by_id.items()), priority=10, min_chars=30),
            Section(name="the person's context", text="\n".join(f"- {h.record.title}" for h in hot), priority=2),
        ]
        task = (f"Today is {long_day(day)}. For each bill, write a reminder: a title (one line) and a body of one or two "
                "short sentences. Keep the bill's name, amount and due date exactly as in its facts; add no other number, "
                "date or weekday. Do not say how to pay: that line is added for you.")
        answer = await ctx.llm.chat_json(self.role, sections, task, model_cls=_Reminders)
        if answer is None:
            return
        for w in answer.reminders:
            r = by_id.get(w.id)
            if r is None or r.worded_by == "llm":
                continue
            title, body = " ".join(w.title.split()), w.body.strip()
            facts = f"{r.facts} {r.bill.name}"
            if not only_known_facts(f"{title} {body}", facts) or r.bill.name.casefold() not in f"{title} {body}".casefold():
                continue
            r.title, r.body, r.worded_by = title, body, "llm"

    @staticmethod
    def _render(digest: BillsDigest, day: dt.date) -> str:
        lines = [f"# Bills on {long_day(day)}", ""]
        groups = [
            ("Overdue", lambda b: b.status == "overdue"),
            ("Due today", lambda b: b.status == "due_today"),
            (f"Due within {digest.remind_days} days", lambda b: b.status == "upcoming" and b.days_left <= digest.remind_days),
            ("Later", lambda b: b.status == "upcoming" and b.days_left > digest.remind_days),
            ("Paid automatically", lambda b: b.status == "autopay"),
            ("Recorded as paid", lambda b: b.status == "paid"),
        ]
        for heading, test in groups:
            rows = [b for b in digest.bills if test(b)]
            if not rows:
                continue
            lines += [f"## {heading}", ""]
            for b in rows:
                done = []
                if b.reminder:
                    done.append("reminded today")
                if b.mark_paid:
                    state = {"awaiting_approval": "waiting for your approval", "snoozed": "snoozed", "approved": "approved",
                             "executing": "being recorded", "denied": "denied", "expired": "expired"}.get(b.mark_paid_status or "", b.mark_paid_status)
                    done.append(f"payment to confirm: {state}")
                if b.url and b.status not in ("paid", "autopay"):
                    done.append(f"pay at {b.url}")
                when = day_words(dt.date.fromisoformat(b.due))
                lines.append(f"- {b.name}: {money(b.amount, b.currency)} due {when} ({relative_days(b.days_left)})"
                             + (f"; {'; '.join(done)}" if done else ""))
            lines.append("")
        if not digest.bills:
            lines += ["No bills due in the bills window.", ""]
        if digest.problems:
            lines += ["## Problems in bills.toml", ""] + [f"- {p}" for p in digest.problems] + [""]
        return "\n".join(lines)

    @staticmethod
    def _summary(digest: BillsDigest, due: list[TodayBill], new: int, overdue: int, confirms: int, remind_days: int) -> str:
        if not due:
            text = f"no bill overdue or due within {remind_days} days; nothing to remind ({len(digest.bills)} tracked)"
        elif new == 0 and confirms == 0:
            text = f"nothing new: {len(due)} bill{'s' if len(due) != 1 else ''} already reminded today"
        else:
            text = f"{new} reminder{'s' if new != 1 else ''}" + (f" ({overdue} overdue)" if overdue else "")
            if confirms:
                text += f", {confirms} payment{'s' if confirms != 1 else ''} to confirm"
        if digest.problems:
            text += f"; {len(digest.problems)} problem{'s' if len(digest.problems) != 1 else ''} in bills.toml"
        return text
