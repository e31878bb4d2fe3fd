"""RPC methods for agents and their artifacts, and the day plan as Today shows it."""

from __future__ import annotations

import datetime as dt

from pydantic import ValidationError

from oxymus.agents import dayplan as dp
from oxymus.agents.base import AgentRun
from oxymus.agents.planner import PlannerSettings
from oxymus.client import protocol as proto
from oxymus.client import wire
from oxymus.daemon.agents import AgentRuntime
from oxymus.daemon.registry import rpc
from oxymus.daemon.rpc import Session
from oxymus.kernel import wording
from oxymus.sources.contract import utc_iso
from oxymus.time.timeofday import parse_clock
from oxymus.time.when import WhenError, parse_date, parse_duration
from oxymus.today.view import day_bounds

PLANNER = "planner"


class AgentHandlers:
    def __init__(self, runtime: AgentRuntime):
        self.rt = runtime

    @rpc("agents.list")
    async def list(self, session: Session, p: proto.NoParams) -> proto.AgentsListResult:
        _, llm = await self.rt._llm_for_run()
        return proto.AgentsListResult(agents=[proto.AgentInfo.model_validate(a) for a in await self.rt.describe()],
                                      broken=self.rt.broken, llm=llm)

    @rpc("agents.run")
    async def run(self, session: Session, p: proto.AgentRunParams) -> AgentRun:
        return await self.rt.run(p.name, f"by hand ({session.client})")

    @rpc("agents.history")
    async def history(self, session: Session, p: proto.AgentsHistoryParams) -> proto.AgentsHistoryResult:
        return proto.AgentsHistoryResult(runs=await self.rt.store.agents.runs(p.agent, p.limit, trace_id=p.trace_id))

    @rpc("artifacts.list")
    async def artifacts(self, session: Session, p: proto.ArtifactsParams) -> proto.ArtifactsResult:
        found = await self.rt.store.agents.artifacts(p.kind, agent=p.agent, key=p.key, limit=p.limit)
        return proto.ArtifactsResult(artifacts=found)

    @rpc("today.plan")
    async def today_plan(self, session: Session, p: proto.TodayParams) -> proto.TodayPlanResult:
        zone, now = self.rt.zone, self.rt.now()
        try:
            day = parse_date(p.date, "date") if p.date else now.astimezone(zone).date()
        except WhenError as exc:
            raise wire.RpcError(wire.INVALID_PARAMS, str(exc)) from None
        planner = self.rt.agents.get(PLANNER)
        settings = planner.settings if planner is not None and isinstance(planner.settings, PlannerSettings) else PlannerSettings()
        plan, made_at, hint = None, None, None
        found = await self.rt.store.agents.artifacts("day_plan", agent=PLANNER, key=day.isoformat(), limit=1)
        if found:
            made_at = found[0].created_at
            try:
                plan = dp.DayPlan.model_validate(found[0].data)
            except ValidationError as exc:
                hint = f"the stored plan cannot be read ({exc.error_count()} problem(s)): make it again"
        else:
            hint = self._no_plan(day, now.astimezone(zone).date(), planner)
        slots = await self._free_slots(day, settings, now)
        return proto.TodayPlanResult(date=day.isoformat(), zone=str(zone.key), plan=plan, made_at=made_at, free_slots=slots,
                                     working_hours=f"{settings.day_start}–{settings.day_end}", hint=hint)

    @staticmethod
    def _no_plan(day: dt.date, today: dt.date, planner) -> str:
        """Why there is no plan (the TUI adds its key, the CLI `oxymus agents run planner`)."""
        if planner is None:
            return "the planner is not installed"
        if day != today:
            return f"none was made for {wording.day_words(day)}"
        if not planner.settings.enabled:
            return f"the planner is off: [agents.{PLANNER}] enabled = false"
        return f"the planner runs {planner.effective_trigger.describe()}"

    async def _free_slots(self, day: dt.date, s: PlannerSettings, now: dt.datetime) -> list[dp.PlanSlot]:
        """The free slots in working hours from the events stored now (on the day itself, from now on)."""
        zone = self.rt.zone
        start, end = day_bounds(day, zone)
        items = await self.rt.store.state.items(kinds=["calendar.event"], start=utc_iso(start), end=utc_iso(end))
        work = dp.window(day, parse_clock(s.day_start), parse_clock(s.day_end), zone)
        busy = dp.busy_spans(items, work, all_day_busy=s.all_day_busy)
        not_before = dp.round_up(now) if now > work.start else None
        slots = dp.free_slots(work, busy, min_minutes=parse_duration(s.min_slot) / 60, not_before=not_before)
        with_zone = wording.changes_offset(day, zone)
        return [dp.slot_view(x, zone, day, with_zone) for x in slots]
