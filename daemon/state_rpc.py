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


class StateHandlers:
    def __init__(self, store: Store, coordinator: Coordinator):
        self.store = store
        self.coordinator = coordinator

    @rpc("today.get")
    async def today(self, session: Session, p: TodayParams) -> today_mod.Today:
        zone = self.coordinator.zone
        now = self.coordinator._now()
        try:
            day = parse_date(p.date, "date") if p.date else now.astimezone(zone).date()
        except WhenError as exc:
            raise wire.RpcError(wire.INVALID_PARAMS, str(exc)) from None
        start, end = today_mod.day_bounds(day, zone)
        iso = lambda d: d.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")  # noqa: E731
        state = self.store.state
        items = await state.items(kinds=["calendar.event"], start=iso(start), end=iso(end))
        items += await state.items(kinds=["calendar.deadline"], end=iso(end + dt.timedelta(days=today_mod.DEADLINE_DAYS)))
        items += await state.items(kinds=[
            "bills.due", "bills.error", "git.repo", "git.root", "github.review_request", "github.pr", "github.issue",
        ])
        items += [i for i in await state.items(errors_only=True) if i.kind.startswith("calendar.")]
        payments = await state.payments(sorted({i.data.get("bill", "") for i in items if i.kind == "bills.due"}))
        return today_mod.build(day, zone, now, items, self.coordinator.views(), payments,
                               calendar_window=self.coordinator.days_known("calendar"))

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
