"""The daemon's RPC methods. Each handler takes validated params and returns a result model."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import time

from oxymus import PROTOCOL_VERSION, __version__, wire
from oxymus.actions import OPEN
from oxymus.clock import now_iso
from oxymus.when import WhenError, parse_date
from oxymus.protocol import (
    CaptureAddParams,
    CaptureAddResult,
    HelloParams,
    HelloResult,
    InboxListParams,
    InboxListResult,
    NoParams,
    RefreshParams,
    ShutdownResult,
    StatusResult,
    SourcesResult,
    SubscribeParams,
    SubscribeResult,
    TodayParams,
)
from oxymus import memory as mem
from oxymus import protocol as proto
from oxymus import today as today_mod
from oxymus.daemon.coordinator import Coordinator
from oxymus.store import ids
from oxymus.store.repos import Store
from oxymus.store.storage_errors import StorageError
from oxymus.daemon.rpc import Handler, Session
from oxymus.daemon.watcher import CaptureWatcher

log = logging.getLogger("oxymus.daemon.service")


class Service:
    def __init__(self, store: Store, watcher: CaptureWatcher, coordinator: Coordinator, socket_path: str, stop: asyncio.Event,
                 bus=None, memory_config=None, plans=None, desk=None, audit_keep_days: int = 400, agents=None,
                 backups=None):
        self.agents = agents
        self.backups = backups  # DailyBackups, or None (tests that build a bare Service)
        self.audit_keep_days = audit_keep_days
        self.store = store
        self.desk = desk
        self.plans = plans
        self.bus = bus
        self.memory_config = memory_config
        self.coordinator = coordinator
        self.watcher = watcher
        self.socket_path = socket_path
        self.stop = stop
        self.started_at = now_iso()
        self.started_mono = time.monotonic()
        self.server = None  # set by main once the server exists, for client counts

    def handlers(self) -> dict[str, Handler]:
        from oxymus.daemon.action_rpc import ActionHandlers

        from oxymus.daemon.agent_rpc import AgentHandlers

        extra = ActionHandlers(self.desk).handlers() if self.desk is not None else {}
        if self.agents is not None:
            extra |= AgentHandlers(self.agents).handlers()
        return extra | {
            "hello": self.hello,
            "status": self.status,
            "capture.add": self.capture_add,
            "inbox.list": self.inbox_list,
            "today.get": self.today,
            "state.refresh": self.refresh,
            "state.sources": self.sources,
            "memory.search": self.memory_search,
            "memory.add": self.memory_add,
            "memory.get": self.memory_get,
            "memory.edit": self.memory_edit,
            "memory.forget": self.memory_forget,
            "memory.budget": self.memory_budget,
            "memory.maintain": self.memory_maintain,
            "memory.export": self.memory_export,
            "memory.import": self.memory_import,
            "inbox.triage": self.inbox_triage,
            "inbox.accept": self.inbox_accept,
            "plans.get": self.plans_get,
            "plans.edit": self.plans_edit,
            "subscribe": self.subscribe,
            "daemon.shutdown": self.shutdown,
        }

    async def hello(self, session: Session, p: HelloParams) -> HelloResult:
        if p.protocol != PROTOCOL_VERSION:
            raise wire.RpcError(
                wire.PROTOCOL_MISMATCH,
                f"client speaks protocol {p.protocol}, this daemon speaks {PROTOCOL_VERSION}; restart the daemon after upgrading",
                {"server_protocol": PROTOCOL_VERSION},
            )
        session.client = p.client
        session.greeted = True
        return HelloResult(version=__version__, pid=os.getpid())

    async def status(self, session: Session, p: NoParams) -> StatusResult:
        sessions = self.server.sessions if self.server is not None else set()
        return StatusResult(
            pid=os.getpid(),
            version=__version__,
            protocol=PROTOCOL_VERSION,
            started_at=self.started_at,
            uptime_s=round(time.monotonic() - self.started_mono, 3),
            socket=self.socket_path,
            database=self.store.path,
            schema_version=await self.store.schema_version(),
            clients=len(sessions),
            subscribers=sum(1 for s in sessions if s.subscriber is not None),
            sources=self.coordinator.views(),
            approvals_waiting=await self.store.actions.count(OPEN),
            pause=await self.store.actions.pause_state(),
            policy_error=self.desk.policy_error if self.desk is not None else None,
            notifications=self.desk.notify_unavailable if self.desk is not None else None,
            llm=self._llm_status(),
            storage_error=str(self.store.trouble) if self.store.trouble is not None else None,
        )

    def _llm_status(self) -> str | None:
        """What the last check said; status never waits on Ollama (agents check before each run)."""
        llm = self.agents.llm if self.agents is not None else None
        if llm is None:
            return "LLM unavailable: disabled in config ([llm] enabled = false)"
        last = getattr(llm, "_status", None)
        if last is None:
            return None
        return "available" if last.available else last.reason

    async def capture_add(self, session: Session, p: CaptureAddParams) -> CaptureAddResult:
        capture, created = await self.store.captures.add(p.text, p.source, p.id)
        if created:
            await self.watcher.poke()
        return CaptureAddResult(capture=capture, created=created)

    async def inbox_list(self, session: Session, p: InboxListParams) -> InboxListResult:
        captures = await self.store.captures.list(p.status, p.limit)
        links = {}
        if p.status == "triaged":
            for capture in captures:
                links[capture.id] = await self.store.captures.links(capture.id)
        suggestions = await self._suggestions([c.id for c in captures]) if p.status == "open" else {}
        total = await self.store.captures.count(p.status)
        return InboxListResult(captures=captures, total=total, links=links, suggestions=suggestions)

    async def _suggestions(self, capture_ids: list[str]) -> dict[str, proto.TriageSuggestion]:
        """The triage agent's suggestions for these captures (artifacts `triage_suggestion`), checked against now:
        an event whose time has passed is stale, so it is no longer pre-selected and cannot be accepted."""
        import json

        from pydantic import ValidationError

        out: dict[str, proto.TriageSuggestion] = {}
        now = self.desk.now() if self.desk is not None else dt.datetime.now(dt.timezone.utc)
        for key, data in (await self.store.agents.artifact_data("triage_suggestion", "triage", capture_ids)).items():
            try:
                suggestion = proto.TriageSuggestion.model_validate(json.loads(data))
            except (ValueError, ValidationError):
                log.warning("ignored a malformed triage suggestion for capture %s", key)
                continue
            if suggestion.event is not None:
                try:
                    start = dt.datetime.fromisoformat(suggestion.event.start)
                except ValueError:
                    start = None
                if start is None or start.tzinfo is None or start <= now:
                    suggestion = suggestion.model_copy(update={"stale": "the suggested time has passed", "preselected": False})
            out[key] = suggestion
        return out

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

    async def refresh(self, session: Session, p: RefreshParams) -> SourcesResult:
        ids = self.coordinator.match(p.source)
        if p.source and not ids:
            known = ", ".join(sorted(self.coordinator.runtimes)) or "none configured"
            raise wire.RpcError(wire.INVALID_INPUT, f"no source named {p.source!r} (sources: {known})")
        return SourcesResult(sources=await self.coordinator.refresh(p.source))

    async def sources(self, session: Session, p: NoParams) -> SourcesResult:
        return SourcesResult(sources=self.coordinator.views())

    # --- memory -------------------------------------------------------------------------------

    def _publish(self, topic: str, data: dict) -> None:
        if self.bus is not None:
            self.bus.publish(topic, data)

    async def memory_search(self, session: Session, p: proto.MemorySearchParams) -> proto.MemorySearchResult:
        hits = await self.store.memory.search(p.query, kind=p.kind, tier=p.tier, tag=p.tag, limit=p.limit)
        return proto.MemorySearchResult(hits=hits)

    async def memory_add(self, session: Session, p: proto.MemoryAddParams) -> mem.MemoryRecord:
        capture = await self._open_capture(p.capture_id) if p.capture_id else None
        provenance = p.provenance
        if capture and provenance.source == "capture":  # the client may have named it by a prefix
            provenance = provenance.model_copy(update={"ref": capture.id})
        record = await self.store.memory.add(p.record, provenance, actor=session.client, capture_id=capture.id if capture else None)
        self._publish("memory.changed", {"id": record.id, "verb": "added"})
        if capture:
            self._publish("capture.triaged", {"id": capture.id, "to": "memory", "target": record.id})
        return record

    async def _record_id(self, text: str) -> str:
        return await ids.resolve(self.store, "memory record", text)

    async def memory_get(self, session: Session, p: proto.MemoryIdParams) -> proto.MemoryGetResult:
        record = await self.store.memory.get(await self._record_id(p.id))
        return proto.MemoryGetResult(record=record, history=await self.store.memory.history(record.id))

    async def memory_edit(self, session: Session, p: proto.MemoryEditParams) -> mem.MemoryRecord:
        record = await self.store.memory.edit(await self._record_id(p.id), p.changes, actor=session.client)
        self._publish("memory.changed", {"id": record.id, "verb": "edited"})
        return record

    async def memory_forget(self, session: Session, p: proto.MemoryForgetParams) -> proto.MemoryForgetResult:
        record_id = await self._record_id(p.id)
        record = await self.store.memory.forget(record_id, purge=p.purge, actor=session.client)
        self._publish("memory.changed", {"id": record_id, "verb": "purged" if p.purge else "forgotten"})
        return proto.MemoryForgetResult(record=record, purged=p.purge)

    async def memory_budget(self, session: Session, p: NoParams) -> mem.BudgetReport:
        limit = self.memory_config.hot_budget_words if self.memory_config else 1500
        return await self.store.memory.budget(limit)

    async def memory_maintain(self, session: Session | None = None, p: NoParams | None = None) -> mem.MaintenanceReport:
        cfg = self.memory_config
        report = await self.store.memory.maintain(
            dt.datetime.now(dt.timezone.utc), cfg.hot_days if cfg else 14, cfg.warm_days if cfg else 120,
        )
        if report.moves or report.summaries:
            log.info("memory maintenance: %d record(s) aged, %d summary(ies) written", len(report.moves), len(report.summaries))
            self._publish("memory.changed", {"id": None, "verb": "maintained", "moved": len(report.moves)})
        return report

    async def maintain_forever(self, every: float = 6 * 3600) -> None:
        """Housekeeping every few hours: the daily backup, memory's mechanical upkeep and audit log retention.

        Memory: records age by the tier rules the person configured ([memory] hot_days,
        warm_days) and each past month's warm records get a deterministic summary. These
        are rules, not judgements, so they run here, directly. The memory steward agent
        (oxymus/agents/steward.py) does the judgement parts as proposals: moving hot
        records to warm when hot memory is over its word budget, and rewriting a
        month's summary with the LLM."""
        while True:
            # The backup first: at start it is the one that cannot wait (the last may be days old).
            jobs = ([self.backups.backup_if_due] if self.backups is not None else []) + [self.memory_maintain, self.prune_audit]
            for job in jobs:
                try:
                    await job()
                except asyncio.CancelledError:
                    raise
                except StorageError as exc:  # a full disk is not a bug: say it without a traceback
                    log.error("%s failed; will retry: %s", job.__name__, exc)
                except Exception:
                    log.exception("%s failed; will retry", job.__name__)
            await asyncio.sleep(every)

    async def prune_audit(self) -> int:
        if not self.audit_keep_days:
            return 0
        cutoff = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=self.audit_keep_days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        pruned = await self.store.audit.prune(cutoff)
        if pruned:
            log.info("audit log: pruned %d routine record(s) older than %d days", pruned, self.audit_keep_days)
        return pruned

    async def memory_export(self, session: Session, p: NoParams) -> proto.MemoryRecordsResult:
        return proto.MemoryRecordsResult(records=await self.store.memory.export_all())

    async def memory_import(self, session: Session, p: proto.MemoryImportParams) -> proto.MemoryImportResult:
        counts = {"added": 0, "updated": 0, "unchanged": 0}
        for entry in p.entries:
            counts[await self.store.memory.import_entry(entry, actor=session.client)] += 1
        if counts["added"] or counts["updated"]:
            self._publish("memory.changed", {"id": None, "verb": "imported", **counts})
        return proto.MemoryImportResult(**counts)

    async def _open_capture(self, text: str):
        """The open capture a person named: its whole id or a unique start of one."""
        capture = await self.store.captures.get(await ids.resolve(self.store, "capture", text))
        if capture is None:
            raise wire.RpcError(wire.INVALID_INPUT, f"no capture {text!r}")
        if capture.status != "open":
            raise wire.RpcError(wire.INVALID_INPUT, f"capture {capture.id} is already {capture.status}")
        return capture

    async def inbox_triage(self, session: Session, p: proto.InboxTriageParams) -> proto.InboxTriageResult:
        capture = await self._open_capture(p.capture_id)
        if p.to == "archive":
            await self.store.captures.set_status(capture.id, "archived", actor=session.client)
            self._publish("capture.triaged", {"id": capture.id, "to": "archive", "target": None})
            return proto.InboxTriageResult(capture_id=capture.id, to="archive")
        if p.to == "plan_action":
            text = " ".join((p.text or capture.text.strip().splitlines()[0]).split())[:500]
            result = await self._plans_action(session, {"op": "add_action", "text": text, "section": p.section})
            if result.action.status != "succeeded":
                raise wire.RpcError(wire.INVALID_INPUT, _not_applied(result.action))
            action = next((a for a in reversed(self.plans.document.actions) if a.text == text), None) if self.plans.document else None
            target = action.id if action else text
            await self.store.transaction(self.store.captures.link_statements(capture.id, "plan_action", target, session.client))
            self._publish("capture.triaged", {"id": capture.id, "to": "plan_action", "target": target})
            return proto.InboxTriageResult(capture_id=capture.id, to="plan_action", target_id=target)
        fields = p.record or mem.RecordFields(title=capture.text.splitlines()[0][: mem.MAX_TITLE], body=capture.text)
        provenance = mem.Provenance(source="capture", ref=capture.id, note=f"captured {capture.created_at} via {capture.source}")
        record = await self.store.memory.add(fields, provenance, actor=session.client, capture_id=capture.id)
        self._publish("memory.changed", {"id": record.id, "verb": "added"})
        self._publish("capture.triaged", {"id": capture.id, "to": "memory", "target": record.id})
        return proto.InboxTriageResult(capture_id=capture.id, to="memory", target_id=record.id)

    async def inbox_accept(self, session: Session, p: proto.InboxAcceptParams) -> proto.InboxAcceptResult:
        """Do what the triage agent suggested for a capture. Next actions, memory and archive take the
        same paths as `inbox.triage`; a calendar event or a bill is proposed as the person, so the policy
        plane decides (by default an event waits for approval, a bill added to your own file runs)."""
        capture = await self._open_capture(p.capture_id)
        suggestion = (await self._suggestions([capture.id])).get(capture.id)
        if suggestion is None:
            raise wire.RpcError(wire.INVALID_INPUT, f"capture {capture.id} has no suggestion yet (the triage agent makes one "
                                                    "shortly after a capture arrives: `oxymus agents run triage`); "
                                                    "or choose yourself: memory, next action or archive")
        if suggestion.stale:
            raise wire.RpcError(wire.INVALID_INPUT, f"the suggestion for capture {capture.id} no longer holds: {suggestion.stale}; "
                                                    "choose differently")
        if suggestion.to in ("archive", "plan_action", "memory"):
            params = proto.InboxTriageParams(capture_id=capture.id, to=suggestion.to, record=suggestion.record,
                                             text=suggestion.text, section=suggestion.section or "Next actions")
            done = await self.inbox_triage(session, params)
            what = {"archive": "archived", "plan_action": f"added to {params.section}: {suggestion.text}",
                    "memory": f"remembered: {suggestion.record.title if suggestion.record else ''}"}[suggestion.to]
            return proto.InboxAcceptResult(**done.model_dump(), suggestion=suggestion, summary=what)
        from oxymus.actions import FINAL, InputRef, Proposer

        if suggestion.to == "calendar_event":
            assert suggestion.event is not None
            kind = "calendar.create_event"
            calendar = suggestion.event.calendar or self._default_calendar()
            payload = {"calendar": calendar, "summary": suggestion.event.summary, "start": suggestion.event.start,
                       "end": suggestion.event.end}
        else:
            kind, payload = "bills.add", dict(suggestion.bill or {})
        key = f"inbox.accept:{capture.id}"
        earlier = await self.store.actions.by_key(key)
        if earlier is not None and earlier.status in FINAL and earlier.status != "succeeded":
            key = f"{key}:{earlier.id}"  # accepted before and it did not happen: a new attempt, not the old answer
        action, _ = await self.desk.propose(
            kind, payload, proposer=Proposer(type="user", name="user"), key=key,
            reason=f"accepted from the inbox ({session.client}): {suggestion.label}; triage said: {suggestion.why}",
            inputs=[InputRef(kind="capture", ref=capture.id, note=capture.text[:200])],
        )
        action = await self.desk.wait_settled(action, timeout=15)
        if action.status in ("denied", "failed", "expired"):
            why = action.error or (f"denied by policy rule {action.decision.rule!r}" if action.status == "denied" else action.status)
            raise wire.RpcError(wire.INVALID_INPUT, f"{kind} was not done ({why}; action {action.id}); the capture stays in the inbox")
        await self.store.transaction(self.store.captures.link_statements(capture.id, "action", action.id, session.client))
        self._publish("capture.triaged", {"id": capture.id, "to": "action", "target": action.id})
        state = {"succeeded": "done", "awaiting_approval": "waits for your approval", "snoozed": "snoozed"}.get(action.status, action.status)
        return proto.InboxAcceptResult(capture_id=capture.id, to="action", target_id=action.id, suggestion=suggestion,
                                       action=action, summary=f"{action.preview.summary}: {state} (action {action.id})")

    def _default_calendar(self) -> str:
        spec = self.desk.specs.get("calendar.create_event") if self.desk is not None else None
        config = getattr(spec, "config", None)
        entries = list(getattr(config, "caldav", None) or [])
        if not entries:
            raise wire.RpcError(wire.INVALID_INPUT, "no CalDAV calendar to add the event to: add a [[calendar.caldav]] entry "
                                                    "to config.toml, or choose differently (p makes it a next action)")
        return entries[0].source_name()

    # --- plans --------------------------------------------------------------------------------

    def _plans_result(self) -> proto.PlansResult:
        k = self.plans
        return proto.PlansResult(path=k.path, exists=k._stat is not None, document=k.document, error=k.error, read_at=k.read_at)

    async def plans_get(self, session: Session, p: NoParams) -> proto.PlansResult:
        return self._plans_result()

    async def plans_edit(self, session: Session, p: proto.PlansEditParams) -> proto.PlansEditResult:
        return await self._plans_action(session, p.model_dump(exclude_unset=True))

    async def _plans_action(self, session: Session, payload: dict) -> proto.PlansEditResult:
        """A PLANS.md edit is a `plans.edit` action proposed by the person: the policy plane
        decides (by default your own edits run at once), and the reply waits for the result."""
        from oxymus.actions import Proposer

        action, _ = await self.desk.propose("plans.edit", payload, proposer=Proposer(type="user", name="user"),
                                            reason=f"edited from {session.client}")
        if action.status == "approved" and await self.store.actions.pause_state() is not None:
            # Nothing runs while paused, the person's own edits included: say so instead of waiting.
            raise wire.RpcError(wire.INVALID_INPUT, f"automation is paused: the edit waits as action {action.id} "
                                                    "and is made when you resume (`oxymus resume`, or P in the TUI)")
        action = await self.desk.wait_settled(action, timeout=15)
        if action.status in ("approved", "executing"):
            raise wire.RpcError(wire.INVALID_INPUT, f"the edit is queued as action {action.id} and has not run yet; "
                                                    f"`oxymus explain {action.id}` shows why")
        if action.status == "failed":
            raise wire.RpcError(wire.INVALID_INPUT, action.error or "the edit failed")
        if action.status == "denied":
            raise wire.RpcError(wire.INVALID_INPUT, _not_applied(action))
        data = action.receipt.data if action.receipt else {}
        return proto.PlansEditResult(
            sha256_before=data.get("sha256_before"), sha256_after=data.get("sha256_after"), diff=data.get("diff", ""),
            document=self.plans.document, action=action,
        )

    async def subscribe(self, session: Session, p: SubscribeParams) -> SubscribeResult:
        session.subscribe(p.topics)
        return SubscribeResult(topics=p.topics)

    async def shutdown(self, session: Session, p: NoParams) -> ShutdownResult:
        log.info("shutdown requested by %s", session.name)
        self.stop.set()
        return ShutdownResult()


def _not_applied(action) -> str:
    if action.status == "denied":
        return f"the edit was denied by policy rule {action.decision.rule!r} (action {action.id})"
    return f"the edit waits for approval (action {action.id}, rule {action.decision.rule!r})"
