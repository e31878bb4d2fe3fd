"""History written with its own dates, through the store's real repositories.

Metrics read months of records, actions, captures and runs; a new profile has none. The demo's
seeded months and the metrics tests' fixture write such a past here: each step runs at the
moment it names (`oxymus.time.clock.stamp_at`), so the rows, their versions and their audit lines
carry that moment, and every item that is finished has both its start and its end.

Everything written here says what it is: records carry `note` in their provenance and their
versions, actions their `reason`, runs their trigger, the person's steps the actor `actor`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from oxymus.actions.effects import Preview, Receipt
from oxymus.actions.model import Action, Approval, Decision, Proposer
from oxymus.kernel.ulid import new_ulid
from oxymus.memory.records import Provenance
from oxymus.store import audit_sql
from oxymus.store.action_repo import receipt_row
from oxymus.time import clock

if TYPE_CHECKING:
    from oxymus.store.repos import Store


def iso(when: dt.datetime) -> str:
    return clock.iso_from_ms(_ms(when))


def _ms(when: dt.datetime) -> int:
    if when.tzinfo is None:
        raise ValueError(f"a history moment needs a zone: {when.isoformat()}")
    return int(when.timestamp() * 1000)


class Backdated:
    """Writes into an open `Store`; `close()` (or leaving `async with`) gives the real clock back."""

    def __init__(self, store: "Store", *, actor: str = "oxymus-cli", note: str | None = None):
        self.store = store
        self.actor = actor  # the person's hand (a client's name counts as a manual move in the metrics)
        self.note = note

    async def __aenter__(self) -> "Backdated":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def at(self, when: dt.datetime) -> None:
        clock.stamp_at(_ms(when))

    def close(self) -> None:
        clock.stamp_at(None)

    async def record(self, kind: str, fields: dict[str, Any], status: str, added: dt.datetime,
                     moves: list[tuple[dt.datetime, str, str]] = (), *, body: str = "", tags: list[str] | None = None,
                     source: str = "user") -> str:
        """A record added at `added` in `status` by the person; each move is (when, status, actor)."""
        for when, _to, _actor in moves:  # checked first: a bad history writes nothing
            if _ms(when) < _ms(added):
                raise ValueError(f"{kind} {fields}: a move at {when.isoformat()} before it was added ({added.isoformat()})")
        self.at(added)
        record = await self.store.records.add(kind, fields, status=status, body=body, tags=tags, actor=self.actor,
                                              provenance=Provenance(source=source, note=self.note))
        for when, to, actor in moves:
            self.at(when)
            await self.store.records.edit(record.id, status=to, actor=actor, note=self.note)
        return record.id

    async def capture(self, text: str, created: dt.datetime, triaged: tuple[dt.datetime, str, str] | None = None,
                      *, source: str = "cli") -> str:
        """A capture made at `created`; `triaged` is (when, target kind, target id) it was linked to."""
        from oxymus.store.repos import CaptureRepo

        capture, _ = await self.store.captures.add(text, source, capture_id=new_ulid(_ms(created)))
        if triaged is not None:
            when, target_kind, target_id = triaged
            self.at(when)
            await self.store.transaction(CaptureRepo.link_statements(capture.id, target_kind, target_id, actor=self.actor))
        return capture.id

    async def run(self, agent: str, finished: dt.datetime, outcome: str, *, seconds: float = 5.0,
                  summary: str = "", trigger: str = "by hand") -> str:
        from oxymus.agents.base import AgentRun

        began = finished - dt.timedelta(seconds=seconds)
        run = AgentRun(id=new_ulid(_ms(began)), agent=agent, trigger=trigger, trace_id=new_ulid(), started_at=iso(began))
        self.at(began)
        await self.store.agents.start_run(run)
        self.at(finished)
        await self.store.agents.finish_run(run.model_copy(update={
            "finished_at": iso(finished), "outcome": outcome, "duration_ms": seconds * 1000, "summary": summary,
            "error": summary if outcome == "failed" else None}))
        return run.id

    async def action(self, kind: str, payload: dict[str, Any], *, proposer: Proposer, summary: str,
                     proposed: dt.datetime, decided: dt.datetime | None = None,
                     how: Literal["approve", "edit", "deny", "expire"] = "approve", edited: dict[str, Any] | None = None,
                     ran: dt.datetime | None = None, error: str | None = None, reason: str = "") -> str:
        """An action that waited for the person: proposed, then approved (`edit`: with `edited` as its payload),
        denied, or left to expire at `decided`; an approved one ran at `ran` (default: a minute later) and
        succeeded, or failed with `error`. The same transitions and audit lines as the desk and the executor."""
        pid = new_ulid(_ms(proposed))
        now = iso(proposed)
        decision = Decision(outcome="require_approval", rule="history", rule_index=0, reason=reason or (self.note or ""),
                            decided_at=now)
        action = Action(id=pid, kind=kind, payload=payload, proposer=proposer, reason=reason or (self.note or ""),
                        idempotency_key=f"history:{pid}", decision=decision, preview=Preview(summary=summary),
                        trace_id=new_ulid(), status="awaiting_approval", created_at=now, updated_at=now,
                        expires_at=iso(decided) if how == "expire" and decided else None, max_attempts=1)
        self.at(proposed)
        await self.store.actions.insert(action, [
            audit_sql.statement(actor=proposer.label(), verb="action.proposed", subject=pid, trace_id=action.trace_id,
                                details={"kind": kind, "summary": summary, "reason": action.reason, "proposer": proposer.model_dump()}),
            audit_sql.statement(actor="policy", verb="action.awaiting_approval", subject=pid, trace_id=action.trace_id,
                                details={"from": "proposed", "kind": kind, "rule": "history", "outcome": "require_approval"}),
        ])
        if decided is None:
            return pid
        if decided < proposed:
            raise ValueError(f"{summary!r}: decided at {decided.isoformat()}, before it was proposed")
        self.at(decided)
        at, repo = iso(decided), self.store.actions
        if how == "expire":
            await repo.transition(action, "expired", actor="daemon", now=at, details={"expires_at": at})
            return pid
        if how == "deny":
            await repo.transition(action, "denied", actor=self.actor, now=at, details={"via": "history"},
                                  approvals=[Approval(action_id=pid, decision="denied", actor=self.actor, via="history", at=at)])
            return pid
        approvals = [Approval(action_id=pid, decision="approved", actor=self.actor, via="history", at=at)]
        changes: dict[str, Any] = {"next_attempt_at": at}
        if how == "edit":
            approvals.insert(0, Approval(action_id=pid, decision="edited", actor=self.actor, via="history", at=at))
            changes["payload"] = edited or payload
        action = await repo.transition(action, "approved", actor=self.actor, now=at, changes=changes, approvals=approvals,
                                       details={"via": "history"})
        when = ran or decided + dt.timedelta(minutes=1)
        self.at(when)
        at = iso(when)
        action = await repo.transition(action, "executing", actor="executor", now=at, changes={"attempts": 1},
                                       details={"attempt": 1})
        if error is not None:
            await repo.transition(action, "failed", actor="executor", now=at, changes={"error": error},
                                  details={"error": error, "attempt": 1})
            return pid
        receipt = Receipt(summary=f"done: {summary}"[:200])
        await repo.transition(action, "succeeded", actor="executor", now=at, receipt=receipt_row(action, receipt, at),
                              changes={"receipt": receipt.model_dump(mode="json")}, details={"receipt": receipt.summary, "attempt": 1})
        return pid
