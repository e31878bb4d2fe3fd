"""RPC methods for polled state: the day view, refreshing sources, their health."""

from __future__ import annotations

import datetime as dt

from oxymus.client import wire
from oxymus.client.protocol import NoParams, RefreshParams, SourcesResult, TodayParams
from oxymus.daemon.coordinator import Coordinator
from oxymus.daemon.registry import rpc
from oxymus.daemon.rpc import Session
from oxymus.store.repos import Store
from oxymus.time.when import WhenError, parse_date
from oxymus.today import view as today_mod


DAYS_KEPT = 4  # day views cached: today, and a few other days a client may be looking at


class StateHandlers:
    def __init__(self, store: Store, coordinator: Coordinator):
        self.store = store
        self.coordinator = coordinator
        # (date, zone) -> (state generation, items, payments, events): what a day view reads, read
        # once per state change, and its events with their conflicts (a busy day's are most of the
        # work). A 20,000-event calendar made that read the costly part of `today.get`. The rest
        # of the view is built on every call, so what depends on the clock (overdue, days left)
        # and on source health is never cached.
        self._days: dict[tuple[dt.date, str], tuple[int, list, dict, list]] = {}

    @rpc("today.get")
    async def today(self, session: Session, p: TodayParams) -> today_mod.Today:
        zone = self.coordinator.zone
        now = self.coordinator._now()
        try:
            day = parse_date(p.date, "date") if p.date else now.astimezone(zone).date()
        except WhenError as exc:
            raise wire.RpcError(wire.INVALID_PARAMS, str(exc)) from None
        items, payments, events = await self._day_inputs(day, zone)
        return today_mod.build(day, zone, now, items, self.coordinator.views(), payments,
                               calendar_window=self.coordinator.days_known("calendar"), events=events)

    async def _day_inputs(self, day: dt.date, zone) -> tuple[list, dict, list]:
        state = self.store.state
        key = (day, str(zone.key))
        generation = state.generation  # before the read: a change committed meanwhile leaves it stale
        cached = self._days.get(key)
        if cached is not None and cached[0] == generation:
            return cached[1], cached[2], cached[3]
        start, end = today_mod.day_bounds(day, zone)
        iso = lambda d: d.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")  # noqa: E731
        items, payments = await state.day_inputs(iso(start), iso(end), iso(end + dt.timedelta(days=today_mod.DEADLINE_DAYS)))
        self._days.pop(key, None)
        events = today_mod.day_events(day, zone, items)
        self._days[key] = (generation, items, payments, events)
        while len(self._days) > DAYS_KEPT:
            self._days.pop(next(iter(self._days)))
        return items, payments, events

    @rpc("state.refresh")
    async def refresh(self, session: Session, p: RefreshParams) -> SourcesResult:
        ids = self.coordinator.match(p.source)
        if p.source and not ids:
            known = ", ".join(sorted(self.coordinator.runtimes)) or "none configured"
            raise wire.RpcError(wire.INVALID_INPUT, f"no source named {p.source!r} (sources: {known})")
        return SourcesResult(sources=await self.coordinator.refresh(p.source))

    @rpc("state.sources")
    async def sources(self, session: Session, p: NoParams) -> SourcesResult:
        return SourcesResult(sources=self.coordinator.views())
