"""RPC methods for captures and the inbox: add, list, triage by hand, accept the triage agent's suggestion."""

from __future__ import annotations

import datetime as dt
import json
import logging

from pydantic import ValidationError

from oxymus.actions.model import FINAL, InputRef, Proposer
from oxymus.client import protocol as proto
from oxymus.client import wire
from oxymus.client.protocol import CaptureAddParams, CaptureAddResult, InboxListParams, InboxListResult
from oxymus.daemon.person_edits import not_applied
from oxymus.daemon.plans_rpc import PlansHandlers
from oxymus.daemon.registry import rpc
from oxymus.daemon.rpc import Session
from oxymus.daemon.watcher import CaptureWatcher
from oxymus.memory import records as mem
from oxymus.store import ids
from oxymus.store.repos import Store

log = logging.getLogger("oxymus.daemon.service")


async def open_capture(store: Store, text: str):
    """The open capture a person named: its whole id or a unique start of one."""
    capture = await store.captures.get(await ids.resolve(store, "capture", text))
    if capture is None:
        raise wire.RpcError(wire.INVALID_INPUT, f"no capture {text!r}")
    if capture.status != "open":
        raise wire.RpcError(wire.INVALID_INPUT, f"capture {capture.id} is already {capture.status}")
    return capture


class CaptureHandlers:
    def __init__(self, store: Store, watcher: CaptureWatcher, plans: PlansHandlers, *, bus=None, desk=None):
        self.store = store
        self.watcher = watcher
        self.plans = plans
        self.bus = bus
        self.desk = desk

    def _publish(self, topic: str, data: dict) -> None:
        if self.bus is not None:
            self.bus.publish(topic, data)

    @rpc("capture.add")
    async def add(self, session: Session, p: CaptureAddParams) -> CaptureAddResult:
        capture, created = await self.store.captures.add(p.text, p.source, p.id)
        if created:
            await self.watcher.poke()
        return CaptureAddResult(capture=capture, created=created)

    @rpc("inbox.list")
    async def list(self, session: Session, p: InboxListParams) -> InboxListResult:
        captures = await self.store.captures.list(p.status, p.limit, before=p.before, after=p.after, oldest=p.oldest)
        links = {}
        if p.status == "triaged":
            for capture in captures:
                links[capture.id] = await self.store.captures.links(capture.id)
        suggestions = await self._suggestions([c.id for c in captures]) if p.status == "open" else {}
        total = await self.store.captures.count(p.status)
        paged = p.before is not None or p.after is not None or p.oldest
        newer = await self.store.captures.count(p.status, newer_than=captures[0].seq) if paged and captures else 0
        return InboxListResult(captures=captures, total=total, links=links, suggestions=suggestions, newer=newer)

    async def _suggestions(self, capture_ids: list[str]) -> dict[str, proto.TriageSuggestion]:
        """The triage agent's suggestions for these captures (artifacts `triage_suggestion`), checked against now:
        an event whose time has passed is stale, so it is no longer pre-selected and cannot be accepted."""
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

    @rpc("inbox.triage")
    async def triage(self, session: Session, p: proto.InboxTriageParams) -> proto.InboxTriageResult:
        capture = await open_capture(self.store, p.capture_id)
        if p.to == "archive":
            await self.store.captures.set_status(capture.id, "archived", actor=session.client)
            self._publish("capture.triaged", {"id": capture.id, "to": "archive", "target": None})
            return proto.InboxTriageResult(capture_id=capture.id, to="archive")
        if p.to == "plan_action":
            text = " ".join((p.text or capture.text.strip().splitlines()[0]).split())[:500]
            result = await self.plans.action(session, {"op": "add_action", "text": text, "section": p.section})
            if result.action.status != "succeeded":
                raise wire.RpcError(wire.INVALID_INPUT, not_applied(result.action))
            keeper = self.plans.plans
            action = next((a for a in reversed(keeper.document.actions) if a.text == text), None) if keeper.document else None
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

    @rpc("inbox.accept")
    async def accept(self, session: Session, p: proto.InboxAcceptParams) -> proto.InboxAcceptResult:
        """Do what the triage agent suggested for a capture. Next actions, memory and archive take the
        same paths as `inbox.triage`; a calendar event or a bill is proposed as the person, so the policy
        plane decides (by default an event waits for approval, a bill added to your own file runs)."""
        capture = await open_capture(self.store, p.capture_id)
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
            done = await self.triage(session, params)
            what = {"archive": "archived", "plan_action": f"added to {params.section}: {suggestion.text}",
                    "memory": f"remembered: {suggestion.record.title if suggestion.record else ''}"}[suggestion.to]
            return proto.InboxAcceptResult(**done.model_dump(), suggestion=suggestion, summary=what)
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
