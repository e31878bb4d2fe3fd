"""RPC methods for the morning review: review.get, review.step, review.finish, review.status.

The review record (one per local date, `store.reviews`) says where the review stands, so
a review left at any step resumes there whichever client opens it. What each step shows
is read here from what the daemon already keeps: today's day plan (made by the planner
now if it has not run yet today), the last day plan before today, PLANS.md, the open
captures with the triage agent's suggestions, the approval queue. Every side effect goes
through the desk: a yesterday's item checked `done` is a `plans.edit` action, a focus
block a `calendar.create_event` proposed as the person. Finishing writes the day plan
again with the chosen top three, through the same artifact path as a planner run.
"""

from __future__ import annotations

import datetime as dt
import logging

from oxymus.actions.model import InputRef, Proposer
from oxymus.agents import dayplan as dp
from oxymus.agents import review as rv
from oxymus.agents.dayplan import DayPlan
from oxymus.client import protocol as proto
from oxymus.client import wire
from oxymus.daemon.agents import AgentRuntime
from oxymus.daemon.capture_rpc import CaptureHandlers
from oxymus.daemon.person_edits import not_applied
from oxymus.daemon.plans_rpc import PlansHandlers
from oxymus.daemon.registry import rpc
from oxymus.daemon.rpc import Session
from oxymus.daemon.weekly_rpc import weekly_status
from oxymus.sources.contract import utc_iso

log = logging.getLogger("oxymus.daemon.review")

PLANNER = "planner"
INBOX_SHOWN = 50
APPROVALS_SHOWN = 100
LOOK_BACK = 30  # day plans read to find the last one before today


class ReviewHandlers:
    def __init__(self, agents: AgentRuntime, captures: CaptureHandlers, plans: PlansHandlers, desk):
        self.rt = agents
        self.store = agents.store
        self.captures = captures
        self.plans = plans
        self.desk = desk

    # ---- reading -------------------------------------------------------------------------

    def _today(self) -> dt.date:
        return self.rt.now().astimezone(self.rt.zone).date()

    async def _record(self, date: str, session: Session | None) -> rv.ReviewRecord:
        record = await self.store.reviews.get(date)
        if record is None:
            now = utc_iso(self.rt.now())
            record = rv.ReviewRecord(date=date, started_at=now, updated_at=now)
            if session is not None:
                await self.store.reviews.save(record, actor=session.client, verb="review.started")
        return record

    async def _plans(self, before: str | None = None, key: str | None = None) -> list[tuple[str, DayPlan, object]]:
        """(date, plan, artifact) of the planner's day plans: of `key`, or the newest ones before `before`."""
        found = await self.store.agents.artifacts("day_plan", agent=PLANNER, key=key, limit=1 if key else LOOK_BACK)
        out = []
        for art in found:
            if before is not None and art.key >= before:
                continue
            try:
                out.append((art.key, DayPlan.model_validate(art.data), art))
            except ValueError:
                log.warning("ignored a malformed day plan %s", art.key)
        return sorted(out, key=lambda t: t[0], reverse=True)

    async def _today_plan(self, date: str) -> tuple[DayPlan | None, object, str | None]:
        """Today's plan; made now by the planner when it has not run today. (plan, artifact, why there is none)."""
        found = await self._plans(key=date)
        if not found and PLANNER in self.rt.agents:
            run = await self.rt.run(PLANNER, "by the morning review")
            found = await self._plans(key=date)
            if not found:
                return None, None, f"the planner could not make today's plan: {run.error or run.summary or run.outcome}"
        if not found:
            return None, None, "no day plan for today, and no planner to make one"
        return found[0][1], found[0][2], None

    def _open_actions(self) -> dict[str, str]:
        keeper = self.plans.plans
        doc = keeper.document if keeper is not None else None
        return {a.id: a.text for a in doc.actions if not a.done and a.done_date is None} if doc is not None else {}

    def _calendar_entries(self) -> list[str]:
        spec = self.desk.specs.get("calendar.create_event") if self.desk is not None else None
        config = getattr(spec, "config", None)
        return [e.source_name() for e in (getattr(config, "caldav", None) or [])]

    def _block_calendar(self) -> str | None:
        """The CalDAV entry a focus block can go to: the planner's `block_calendar`, else the first one configured."""
        entries = self._calendar_entries()
        planner = self.rt.agents.get(PLANNER)
        chosen = getattr(getattr(planner, "settings", None), "block_calendar", None)
        if chosen:
            return chosen if chosen in entries else None
        return entries[0] if entries else None

    def _cannot(self, suggestion) -> str | None:
        """Why a suggestion cannot be carried out now (None: it can)."""
        if suggestion.stale:
            return suggestion.stale
        if suggestion.to == "calendar_event":
            wanted = suggestion.event.calendar if suggestion.event is not None else None
            entries = self._calendar_entries()
            if not entries:
                return "no CalDAV calendar is configured to add the event to"
            if wanted and wanted not in entries:
                return f"no CalDAV calendar {wanted!r} is configured"
        if suggestion.to == "bill" and (self.desk is None or "bills.add" not in self.desk.specs):
            return "no bills file is configured to add the bill to"
        if suggestion.to == "plan_action" and self.plans.plans is None:
            return "no PLANS.md is configured"
        return None

    async def _inbox(self) -> tuple[list[rv.InboxEntry], int]:
        captures = await self.store.captures.list("open", INBOX_SHOWN)
        suggestions = await self.captures._suggestions([c.id for c in captures])
        out = []
        for capture in captures:
            suggestion = suggestions.get(capture.id)
            why = "no suggestion yet" if suggestion is None else self._cannot(suggestion)
            out.append(rv.InboxEntry(capture=capture, suggestion=suggestion, offered=why is None, why_not=why))
        return out, await self.store.captures.count("open")

    async def _view(self, date: str, record: rv.ReviewRecord) -> rv.ReviewView:
        today = dt.date.fromisoformat(date)
        plan, _, plan_error = await self._today_plan(date)
        earlier = await self._plans(before=date)
        last_date, last_plan = (earlier[0][0], earlier[0][1]) if earlier else (None, None)
        items = rv.yesterday_items(last_plan, self._open_actions())
        last_done = await self.store.reviews.last_done(date)
        done_day = dt.date.fromisoformat(last_done.date) if last_done else None
        carried = [y for y in items if record.decisions.get(y.key) == "carry"]
        cands = rv.candidates(plan, carried)
        if not record.top:
            record = record.model_copy(update={"top": rv.default_top(cands)})
        inbox, total = await self._inbox()
        approvals = await self.store.actions.list(("awaiting_approval",), limit=APPROVALS_SHOWN)
        return rv.ReviewView(
            date=date, record=record, yesterday_date=last_date, yesterday=items,
            since_line=rv.since_line(today, done_day, dt.date.fromisoformat(last_date) if last_date else None,
                                     sum(1 for y in items if y.default == "carry")),
            days_since_last=(today - done_day).days if done_day else None, plan=plan, plan_error=plan_error,
            candidates=cands, inbox=inbox, inbox_total=total, approvals=approvals, block_calendar=self._block_calendar(),
            missed=[f"{dt.datetime.fromisoformat(n.created_at).astimezone(self.rt.zone):%a %H:%M}  {n.title}"
                    for n in await self.store.notices.listing(missed_only=True, limit=20)],
        )

    # ---- methods -------------------------------------------------------------------------

    @rpc("review.get")
    async def get(self, session: Session, p: proto.NoParams) -> rv.ReviewView:
        date = self._today().isoformat()
        return await self._view(date, await self._record(date, session))

    @rpc("review.status")
    async def status(self, session: Session, p: proto.NoParams) -> proto.ReviewStatusResult:
        today = self._today()
        record = await self.store.reviews.get(today.isoformat())
        last = record if record is not None and record.status == "done" else await self.store.reviews.last_done(today.isoformat())
        return proto.ReviewStatusResult(
            date=today.isoformat(), status="none" if record is None else record.status,
            step=record.step if record is not None and record.status == "open" else None,
            started_at=record.started_at if record else None, finished_at=record.finished_at if record else None,
            last_done=last.date if last else None,
            days_since_last=(today - dt.date.fromisoformat(last.date)).days if last else None,
            weekly=await weekly_status(self.rt),
        )

    @rpc("review.step")
    async def step(self, session: Session, p: proto.ReviewStepParams) -> proto.ReviewStepResult:
        date = self._today().isoformat()
        record = await self._record(date, None)
        go_to = p.go_to or rv.next_step(p.step)
        if go_to == "done" and record.status != "done":
            raise wire.RpcError(wire.INVALID_INPUT, "a review is finished with review.finish (it writes the day plan), "
                                                    "not by moving to `done`")
        problems: list[str] = []
        decisions = dict(record.decisions)
        if p.step == "yesterday":
            bad = [k for k, v in p.decisions.items() if v not in rv.YESTERDAY_DECISIONS + ("skipped",)]
            if bad:
                raise wire.RpcError(wire.INVALID_INPUT, f"yesterday's items are carried, dropped or done; not "
                                                        f"{', '.join(f'{k}={p.decisions[k]}' for k in bad)}")
            problems = await self._check_done(session, p.decisions, record.decisions)
        for key, decision in p.decisions.items():
            if not (p.step == "yesterday" and decision == "done" and any(key in x for x in problems)):
                decisions[key] = decision
        record = record.model_copy(update={"decisions": decisions, "step": go_to, "updated_at": utc_iso(self.rt.now())})
        await self.store.reviews.save(record, actor=session.client, verb="review.step")
        return proto.ReviewStepResult(record=record, problems=problems)

    async def _check_done(self, session: Session, new: dict[str, str], old: dict[str, str]) -> list[str]:
        """Check in PLANS.md the yesterday's items newly marked done (a plans.edit action each); what failed, in words."""
        problems = []
        for key, decision in new.items():
            if decision != "done" or old.get(key) == "done" or not key.startswith("yesterday:plan:"):
                continue
            action_id = key.removeprefix("yesterday:plan:")
            try:
                result = await self.plans.action(session, {"op": "set_done", "action_id": action_id, "done": True})
            except wire.RpcError as exc:
                problems.append(f"{key}: not checked in PLANS.md: {exc.message}")
                continue
            if result.action.status != "succeeded":
                problems.append(f"{key}: not checked in PLANS.md: {not_applied(result.action)}")
        return problems

    @rpc("review.finish")
    async def finish(self, session: Session, p: proto.ReviewFinishParams) -> proto.ReviewFinishResult:
        date = self._today().isoformat()
        record = await self._record(date, session)
        view = await self._view(date, record)
        plan, art = view.plan, None
        if plan is None:
            raise wire.RpcError(wire.INVALID_INPUT, f"the review cannot write today's plan: {view.plan_error}")
        _, art, _ = await self._today_plan(date)
        chosen = p.top if p.top is not None else view.record.top
        try:
            plan = rv.choose_top(plan, view.candidates, chosen)
        except ValueError as exc:
            raise wire.RpcError(wire.INVALID_INPUT, f"top three: {exc}") from None
        block = None
        if p.block:
            block = await self._block(session, plan, date, view.block_calendar)
            if block is not None:
                plan.blocks.append(dp.PlanBlock(start=block.payload["start"][11:16], end=block.payload["end"][11:16],
                                                starts_at=block.payload["start"], ends_at=block.payload["end"],
                                                summary=block.payload["summary"], action_id=block.id, status=block.status,
                                                new=True))
        saved = await self.rt.save_artifact(PLANNER, getattr(art, "run_id", "review"), "day_plan", date, plan.title,
                                            dp.render(plan), data=plan.model_dump(mode="json"), filename=f"{date}.md")
        now = utc_iso(self.rt.now())
        record = view.record.model_copy(update={"status": "done", "step": "done", "top": chosen, "updated_at": now,
                                                "finished_at": now})
        await self.store.reviews.save(record, actor=session.client, verb="review.done")
        if view.missed:  # the review showed them first: seen
            await self.store.notices.mark_seen(now)
        titles = "; ".join(f"{t.rank}. {t.title}" for t in plan.top) or "nothing urgent"
        summary = f"day plan written: {titles}" + (f"; focus block {block.preview.summary}: {block.status}" if block else "")
        return proto.ReviewFinishResult(record=record, plan=plan, path=saved.path, block=block, summary=summary)

    async def _block(self, session: Session, plan: DayPlan, date: str, calendar: str | None):
        """Propose a focus block for the first of the top three in today's first free slot (policy decides)."""
        if calendar is None:
            raise wire.RpcError(wire.INVALID_INPUT, "no CalDAV calendar to block focus time in: add a [[calendar.caldav]] "
                                                    "entry (and [agents.planner] block_calendar) to config.toml")
        if not plan.free_slots or not plan.top:
            raise wire.RpcError(wire.INVALID_INPUT, "no free slot left today for a focus block" if plan.top
                                else "nothing in the top three to block time for")
        slot, item = plan.free_slots[0], plan.top[0]
        start = dt.datetime.fromisoformat(slot.starts_at).astimezone(self.rt.zone)
        end = min(dt.datetime.fromisoformat(slot.ends_at).astimezone(self.rt.zone), start + dt.timedelta(minutes=90))
        payload = {"calendar": calendar, "summary": f"Focus: {item.title}"[:200], "start": start.isoformat(),
                   "end": end.isoformat(), "description": f"{item.title}: {item.why}\n\nBlocked in the morning review of {date}."}
        action, _ = await self.desk.propose(
            "calendar.create_event", payload, proposer=Proposer(type="user", name="user"), key=f"review:block:{date}",
            reason=f"focus time for today's first item, chosen in the morning review ({session.client})",
            inputs=[InputRef(kind="review", ref=date, note=item.title[:500])],
        )
        return action
