"""Starting agents on a record's status, and recording each handoff.

On each `record.status` event (a person's move through `records.edit`, or an agent's
`record.update` once executed) the agents that declare they consume that kind at that
status (`Agent.consumes`) are started, with the record in their event:
`{"record": {"id", "kind", "status", "old"}, "events": [the record.status event]}`.

- Debounced per (agent, record): a record moved several times in a burst starts its
  consumer once, on the status it ended on, if that is still consumed.
- Never twice at once for the same record: a start that comes while the consumer still
  works on that record waits for that run, then runs; different records queue behind
  the agent's one-run-at-a-time lock rather than being folded into another record's run.
- Every status reached is a handoff row (oxymus/store/handoffs.py): automatic when an
  agent's move the policy allowed started a consumer, manual when a person moved the
  record, approved the move, or no agent takes it over.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from oxymus.agents.base import RecordPort
from oxymus.daemon.tasks import cancel
from oxymus.kernel.debounce import Debouncer
from oxymus.records.model import Handoff
from oxymus.sources.contract import utc_iso

log = logging.getLogger("oxymus.daemon.agent_graph")

DEBOUNCE_S = 1.0


class StatusStarts:
    def __init__(self, runtime, *, debounce: float = DEBOUNCE_S, start_consumers: bool = True):
        self.rt = runtime
        self.start_consumers = start_consumers  # False (OXYMUS_AGENTS=off): handoffs recorded, nothing started
        self.debounce = debounce
        self._task: asyncio.Task | None = None
        self._subscriber = None
        self._debouncers: dict[tuple[str, str], Debouncer] = {}
        self._pending: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        self._busy: dict[tuple[str, str], asyncio.Lock] = {}
        self.handled = 0  # record.status events fully handled (handoffs written, consumers debounced)
        self.started = 0  # consumer runs done and noted on their handoff

    def consumers(self, kind: str, status: str) -> list[str]:
        if not self.start_consumers:
            return []
        port = RecordPort(kind=kind, status=status)
        return sorted(name for name, agent in self.rt.agents.items() if agent.settings.enabled and port in agent.consumes)

    def start(self) -> None:
        self._subscriber = self.rt.bus.subscribe(["record.status"], "agent-graph")
        self._task = asyncio.create_task(self._listen(), name="agent-graph")

    async def stop(self) -> None:
        if self._subscriber is not None:
            self.rt.bus.unsubscribe(self._subscriber)
        for debouncer in self._debouncers.values():
            debouncer.cancel()
        if self._task is not None:
            await cancel(self._task)

    async def _listen(self) -> None:
        while True:
            event = await self._subscriber.queue.get()
            if event is None:
                log.warning("record.status queue overflowed; resubscribing (some handoffs may be missing)")
                self._subscriber = self.rt.bus.subscribe(["record.status"], "agent-graph")
                continue
            try:
                await self.on_status(event)
            except Exception:  # noqa: BLE001 - one bad event must not stop the graph
                log.exception("record.status %s not handled", event.get("data"))
            self.handled += 1

    async def _mode(self, data: dict[str, Any]) -> str:
        """automatic only for an agent's move that the policy allowed without the person."""
        if not str(data.get("actor", "")).startswith("agent:") or not data.get("action"):
            return "manual"
        action = await self.rt.store.actions.get(data["action"])
        if action is None or action.decision.outcome != "allow":
            return "manual"
        return "automatic"

    async def on_status(self, event: dict[str, Any]) -> None:
        data = event["data"]
        kind, status, rid = data["kind"], data["new"], data["id"]
        names = self.consumers(kind, status)
        moved = await self._mode(data)
        now = utc_iso(self.rt.now())
        base = Handoff(at=now, record_id=rid, kind=kind, from_status=data.get("old"), to_status=status,
                       by=str(data.get("actor") or "user"), mode="manual", action_id=data.get("action"))
        if not names:
            await self.rt.store.handoffs.add(base)
            return
        for name in names:
            row = await self.rt.store.handoffs.add(base.model_copy(update={"to_agent": name, "mode": moved}))
            key = (name, rid)
            self._pending[key] = (event, row.id)
            if key not in self._debouncers:
                self._debouncers[key] = Debouncer(self.debounce, functools.partial(self._start, key), name=f"{name} on {rid}")
            self._debouncers[key]()

    async def _start(self, key: tuple[str, str]) -> None:
        name, rid = key
        pending = self._pending.pop(key, None)
        if pending is None:
            return
        event, handoff_id = pending
        data = event["data"]
        lock = self._busy.setdefault(key, asyncio.Lock())
        async with lock:  # one run per record at a time for this agent
            record = await self.rt.store.records.get(rid)
            if RecordPort(kind=record.kind, status=record.status) not in self.rt.agents[name].consumes:
                log.info("record %s moved on to %s before %s started; not started", rid, record.status, name)
                return
            try:
                run = await self.rt.run_waiting(
                    name, f"record {record.kind}@{record.status}",
                    {"record": {"id": rid, "kind": record.kind, "status": record.status, "old": data.get("old")},
                     "events": [event]})
                await self.rt.store.handoffs.started(handoff_id, run.id)
                self.started += 1
            except Exception:  # noqa: BLE001 - a failing consumer never takes the daemon down
                log.exception("starting %s on record %s failed", name, rid)
            finally:
                # Forget the record's debouncer once nothing more is asked of it, so a long-running
                # daemon keeps none per record ever moved. The lock stays: it orders a start that
                # raced this one through a new debouncer.
                debouncer = self._debouncers.get(key)
                if debouncer is not None and not debouncer.pending:
                    del self._debouncers[key]
