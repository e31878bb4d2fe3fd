"""The action desk: proposals in, decisions recorded, the pause kept. The executor does the rest.

Every proposal passes `evaluate()`: the payload is validated by its kind's spec,
prepared (pinned and previewed) and decided by the policy plane. `policy explain`
runs the very same `evaluate()` without storing anything. A decision by the person
is durable (committed) before the reply that tells the client it is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from oxymus.actions import flows
from oxymus.actions import policy as pol
from oxymus.actions.effects import ActionContext, ActionInvalid, ActionSpec, LocalEffects, Prepared
from oxymus.actions.errors import ActionError, ActionNotFound, CannotDecide, InvalidProposal, UnknownKind
from oxymus.actions.model import FINAL, FLOW, OPEN, Action, Approval, Decision, InputRef, PauseState, Proposer
from oxymus.daemon import asks, take_back
from oxymus.daemon.events import EventBus
from oxymus.daemon.notices import Courier, claims, inserts, record_for
from oxymus.daemon.wakeups import Wakeups
from oxymus.kernel.ulid import new_ulid
from oxymus.profile.config import ConfigError
from oxymus.sources.contract import utc_iso
from oxymus.store import ids
from oxymus.store.action_repo import Conflict
from oxymus.store.repos import Store

log = logging.getLogger("oxymus.daemon.desk")

NOTIFY = "notify.send"


def payload_error(kind: str, exc: ValidationError) -> str:
    """A pydantic error as one line naming the payload field."""
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"])
        message = "unknown field" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
        parts.append(f"payload.{where}: {message}" if where else f"payload: {message}")
    more = len(exc.errors()) - 3
    return f"{kind}: " + "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


class Evaluation(BaseModel):
    kind: str
    prepared: Prepared
    decision: Decision
    scope: str
    risk: str
    steps: list["Evaluation"] = []  # a flow's steps, each prepared as a single action of its kind would be


class ActionDesk:
    def __init__(
        self,
        store: Store,
        bus: EventBus,
        specs: dict[str, ActionSpec],
        *,
        policy_path: str,
        zone,
        config_dir: str,
        secret: Callable[[str], str | None] | None = None,
        now: Callable[[], dt.datetime] | None = None,
        local: LocalEffects | None = None,
    ):
        self.store = store
        self.repo = store.actions
        self.bus = bus
        self.specs = specs
        self.policy_path = policy_path
        self.zone = zone
        self.config_dir = config_dir
        self.secret = secret
        self._now = now or (lambda: dt.datetime.now(dt.timezone.utc))
        self.local = local
        self.wakeups = Wakeups()  # when the executor looks again; see poke()
        self._policy: pol.Policy | None = None
        self._policy_stat: tuple[int, int] | None = None
        self.policy_error: str | None = None
        self._waiters: dict[str, list[asyncio.Future]] = {}
        self.notify_unavailable: str | None = None  # why desktop notifications cannot be shown, if so
        self.notices = Courier(self)  # the delivery chain of notify.send (daemon/notices.py)

    # --- time and policy ----------------------------------------------------------------

    def now(self) -> dt.datetime:
        return self._now()

    def now_iso(self) -> str:
        return utc_iso(self.now())

    def policy(self) -> pol.Policy:
        """policy.toml as it is now: re-read when it changes. A broken file fails closed."""
        try:
            st = os.stat(self.policy_path)
            stat: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stat = None
        if self._policy is None or stat != self._policy_stat:
            self._policy_stat = stat
            try:
                self._policy = pol.load(self.policy_path)
                if self.policy_error:
                    log.info("%s is valid again", self.policy_path)
                self.policy_error = None
            except ConfigError as exc:
                # Fail closed: no rule can be trusted, so nothing runs without the person.
                self.policy_error = str(exc)
                log.error("policy: %s; every action needs approval until it is fixed", exc)
                self._policy = pol.Policy(pol.PolicyFile(rule=[pol.Rule(
                    name="policy.toml is invalid: everything needs approval", reason=str(exc)[:500],
                    outcome="require_approval")]), self.policy_path, None)
        return self._policy

    def context(self, action: Action | None = None, proposer: Proposer | None = None, compensates_key: str = "") -> ActionContext:
        return ActionContext(
            zone=self.zone, config_dir=Path(self.config_dir), now=self._now, secret=self.secret,
            action_id=action.id if action else "", idempotency_key=action.idempotency_key if action else "",
            trace_id=action.trace_id if action else "", attempt=action.attempts if action else 0,
            proposer=(action.proposer if action else proposer or Proposer()).label(),
            local=self.local, on_button=self.button_pressed, compensates_key=compensates_key,
        )

    # --- evaluation (shared by live proposals and dry runs) -----------------------------

    def spec(self, kind: str) -> ActionSpec:
        spec = self.specs.get(kind)
        if spec is None:
            known = ", ".join(sorted(self.specs)) or "none"
            raise UnknownKind(f"unknown action kind {kind!r} (known kinds: {known})")
        return spec

    async def evaluate(self, kind: str, payload: dict[str, Any], proposer: Proposer, confidence: float | None,
                       at: dt.datetime | None = None) -> Evaluation:
        if kind == FLOW:
            return await self._evaluate_flow(payload, proposer, confidence, at or self.now())
        spec = self.spec(kind)
        try:
            typed = spec.parse(payload)
            prepared = await spec.prepare(typed, self.context(proposer=proposer))
        except ValidationError as exc:
            raise InvalidProposal(payload_error(kind, exc)) from None
        except ActionInvalid as exc:
            raise InvalidProposal(f"{kind}: {exc}") from None
        final = spec.parse(prepared.payload)
        scope, risk = spec.scope_of(final), spec.risk_of(final)
        requests = self.effect_requests(spec, final, proposer, confidence, at or self.now())
        return Evaluation(kind=kind, prepared=prepared, decision=pol.decide_all(self.policy(), requests), scope=scope, risk=risk)

    async def _evaluate_flow(self, payload: dict[str, Any], proposer: Proposer, confidence: float | None,
                             at: dt.datetime) -> Evaluation:
        """Each step prepared as a single action would be; the flow decided by the strictest of all their effects."""
        try:
            flow = flows.FlowPayload.model_validate(payload)
        except ValidationError as exc:
            raise InvalidProposal(payload_error(FLOW, exc)) from None
        steps: list[Evaluation] = []
        requests: list[tuple[str, pol.DecisionRequest]] = []
        views: list[tuple[flows.StepView, Any]] = []
        for i, step in enumerate(flow.steps, start=1):
            if step.kind == FLOW:
                raise InvalidProposal(f"flow: step {i}: a flow cannot hold a flow")
            try:
                ev = await self.evaluate(step.kind, step.payload, proposer, confidence, at)
            except ActionError as exc:
                raise exc.prefixed(f"flow: step {i}: ") from None
            spec = self.specs[step.kind]
            steps.append(ev)
            requests += self.effect_requests(spec, spec.parse(ev.prepared.payload), proposer, confidence, at, label=f"step {i}: ")
            views.append((flows.StepView(kind=step.kind, summary=ev.prepared.preview.summary, compensable=spec.compensable),
                          ev.prepared.preview))
        stored = {"title": flow.title, "steps": [v.model_dump() for v, _ in views]}
        return Evaluation(
            kind=FLOW, prepared=Prepared(payload=stored, preview=flows.preview(flow.title, views)),
            decision=pol.decide_all(self.policy(), requests), scope=flows.widest_scope([e.scope for e in steps]),
            risk=flows.strictest_risk([e.risk for e in steps]), steps=steps,
        )

    def effect_requests(self, spec: ActionSpec, payload: BaseModel, proposer: Proposer, confidence: float | None,
                        at: dt.datetime, label: str = "") -> list[tuple[str, pol.DecisionRequest]]:
        return pol.effect_requests(spec, self.specs, payload, proposer=proposer, confidence=confidence, at=at,
                                   zone=self.zone.key, label=label)

    # --- proposals ----------------------------------------------------------------------

    async def propose(
        self, kind: str, payload: dict[str, Any], *, proposer: Proposer | None = None, reason: str = "",
        inputs: list[InputRef] | None = None, confidence: float | None = None, key: str | None = None,
        trace_id: str | None = None, not_before: dt.datetime | None = None,
    ) -> tuple[Action, bool]:
        proposer = proposer or Proposer()
        if not_before is not None and not_before.tzinfo is None:
            raise InvalidProposal("not_before: a time with its zone is needed (an aware datetime)")
        if key:
            existing = await self.repo.by_key(key)
            if existing is not None:
                return existing, False
        said = await self._already_said(kind, payload)
        if said is not None:
            return said, False
        now = self.now()
        # Decided for the time it would run: a rule's time window judges the effect, not the asking.
        ev = await self.evaluate(kind, payload, proposer, confidence, max(now, not_before) if not_before else None)
        now_s = utc_iso(now)
        status = {"allow": "approved", "require_approval": "awaiting_approval", "deny": "denied"}[ev.decision.outcome]
        notice_state, held_until = ("pending", None)
        if kind == NOTIFY and status == "approved":
            notice_state, held_until = await self.notices.hold(ev.prepared.payload, now)
        action_id = new_ulid()
        held = utc_iso(not_before) if not_before is not None else None
        # A request about a later time stays open that long after the time, not after the proposal:
        # asked on Sunday to send on Monday, it does not go stale before Monday.
        start = max(now, not_before) if not_before is not None else now
        expires = utc_iso(start + dt.timedelta(seconds=ev.decision.expires_in_s)) if ev.decision.expires_in_s else None
        action = Action(
            id=action_id, kind=kind, payload=ev.prepared.payload, proposer=proposer, reason=reason, inputs=inputs or [],
            confidence=confidence, risk=ev.risk, idempotency_key=key or f"action:{action_id}", decision=ev.decision,
            preview=ev.prepared.preview, trace_id=trace_id or new_ulid(), status=status,
            max_attempts=self.specs[kind].max_attempts if kind != FLOW else 1,
            next_attempt_at=max(held_until or now_s, held or "") if status == "approved" else None, expires_at=expires,
            created_at=now_s, updated_at=now_s, not_before=held,
        )
        # A flow's steps wait in `proposed` for their turn; they carry the flow's decision, so the
        # database lets each run only on the flow's approval (migration 008's trigger).
        steps = [
            Action(
                id=new_ulid(), kind=step.kind, payload=step.prepared.payload, proposer=proposer, reason=reason,
                inputs=inputs or [], confidence=confidence, risk=step.risk, idempotency_key=f"{action.idempotency_key}:step:{i}",
                decision=ev.decision, preview=step.prepared.preview, trace_id=action.trace_id, status="proposed",
                max_attempts=self.specs[step.kind].max_attempts, created_at=now_s, updated_at=now_s, flow_id=action_id, step=i,
            )
            for i, step in enumerate(ev.steps, start=1)
        ]
        from oxymus.store import audit_sql

        audit = [
            audit_sql.statement(actor=proposer.label(), verb="action.proposed", subject=action_id, trace_id=action.trace_id, details={
                "kind": kind, "summary": action.preview.summary, "reason": reason, "proposer": proposer.model_dump(),
                "inputs": [i.model_dump() for i in action.inputs], "confidence": confidence, "key": action.idempotency_key,
                **({"not_before": held} if held else {}),
                **({"steps": [f"{s.id} {s.kind}" for s in steps]} if steps else {}),
            }),
            audit_sql.statement(actor="policy", verb=f"action.{status}", subject=action_id, trace_id=action.trace_id, details={
                "from": "proposed", "kind": kind, "rule": ev.decision.rule, "rule_index": ev.decision.rule_index,
                "outcome": ev.decision.outcome, "expires_at": expires,
            }),
        ]
        notice = record_for(action, state=notice_state, held_until=held_until) if kind == NOTIFY else None
        if notice is not None:
            audit += inserts(notice)
        if not await self.repo.insert(action, audit, steps, claims=claims(notice) if notice is not None else None):
            existing = await self.repo.by_key(action.idempotency_key) or await self._already_said(kind, payload)
            assert existing is not None
            return existing, False
        log.info("action %s %s proposed by %s: %s -> %s (%s)", action_id, kind, proposer.label(), action.preview.summary,
                 status, ev.decision.rule)
        await self.changed(action, "proposed")
        if status == "awaiting_approval":
            await self._ask(action)
        return action, True

    async def _already_said(self, kind: str, payload: dict[str, Any]) -> Action | None:
        """The notification that already announced every fact of this one, whoever proposed it (one per fact)."""
        facts = payload.get("facts") if kind == NOTIFY else None
        if not facts or not isinstance(facts, list):
            return None
        said = await self.store.notices.by_facts([str(f) for f in facts])
        return await self.repo.get(said) if said else None

    async def notify_person(self, payload: dict[str, Any], *, by: str, reason: str, key: str, trace_id: str | None = None) -> Action | None:
        """A notification from the daemon itself, through the policy plane like any effect.

        Never fails the caller: what it is about is recorded anyway and shown by the
        CLI and TUI. Without a desktop it still reaches a TUI or the missed list
        (daemon/notices.py).
        """
        if self.specs.get(NOTIFY) is None:
            return None
        try:
            action, _ = await self.propose(NOTIFY, payload, proposer=Proposer(type="system", name=by), reason=reason,
                                           key=key, trace_id=trace_id)
            return action
        except Exception:  # noqa: BLE001
            log.exception("could not notify (%s)", reason)
            return None

    @contextlib.asynccontextmanager
    async def asking_once(self, by: str) -> AsyncIterator[None]:
        """Requests proposed inside are asked for in one notification when it ends (daemon/asks.py)."""
        gathering, token = asks.start()
        try:
            yield
        finally:
            await asyncio.shield(self._ask_all(asks.end(gathering, token), by))

    async def _ask_all(self, gathered: list[Action], by: str) -> None:
        waiting = [a for a in [await self.repo.get(g.id) for g in gathered] if a is not None and a.status == "awaiting_approval"]
        if len(waiting) == 1:
            await self._ask(waiting[0])
        elif waiting:
            payload, reason, key = asks.together(waiting, by)
            await self.notify_person(payload, by="approvals", reason=reason, key=key, trace_id=waiting[0].trace_id)

    async def _ask(self, action: Action) -> None:
        """Tell the person a decision is waiting, with Approve/Deny buttons."""
        if (action.kind == NOTIFY and action.proposer.type == "system") or asks.gathered(action):
            return
        payload, reason, key = asks.one(action)
        await self.notify_person(payload, by="approvals", reason=reason, key=key, trace_id=action.trace_id)

    # --- decisions ----------------------------------------------------------------------

    async def find(self, text: str) -> Action:
        """The action a person named: its whole id or a unique start of one (oxymus/store/ids.py)."""
        try:
            action_id = await ids.resolve(self.store, "action", text)
        except ids.IdError as exc:
            raise ActionNotFound(str(exc)) from None
        found = await self.repo.get(action_id)
        assert found is not None
        return found

    def _approval(self, action: Action, decision: str, via: str, reason: str | None = None, until: str | None = None) -> Approval:
        return Approval(action_id=action.id, decision=decision, actor="user", via=via, at=self.now_iso(), reason=reason, until=until)

    def _must_be_open(self, action: Action, verb: str) -> None:
        if action.status not in OPEN:
            raise CannotDecide(f"cannot {verb} action {action.id}: it is {action.status.replace('_', ' ')}")

    async def approve(self, text: str, *, via: str = "cli", payload: dict[str, Any] | None = None, reason: str | None = None) -> Action:
        action = await self.find(text)
        self._must_be_open(action, "approve")
        if action.expires_at and action.expires_at <= self.now_iso():
            # Fail closed: past its deadline a request cannot be approved, even before the sweep expires it.
            raise CannotDecide(f"cannot approve action {action.id}: the request expired at {action.expires_at}")
        approvals: list[Approval] = []
        changes: dict[str, Any] = {}
        details: dict[str, Any] = {"via": via}
        if payload is not None and payload != action.payload and action.kind == FLOW:
            raise CannotDecide(f"cannot edit flow {action.id}: deny it and propose the flow again")
        if payload is not None and payload != action.payload:
            # An edit is a new proposal of the same action: prepared and decided again,
            # so an edit cannot smuggle a payload past a deny rule.
            at = dt.datetime.fromisoformat(action.not_before) if action.not_before else None
            ev = await self.evaluate(action.kind, payload, action.proposer, action.confidence, max(self.now(), at) if at else None)
            approvals.append(self._approval(action, "edited", via, reason="payload edited before approval"))
            changes.update(payload=ev.prepared.payload, preview=ev.prepared.preview.model_dump(mode="json"),
                           decision=ev.decision.model_dump(mode="json"))
            details["edited"] = True
            if ev.decision.outcome == "deny":
                updated = await self._decide(action, "denied", approvals, changes,
                                             {**details, "rule": ev.decision.rule, "reason": "the edited payload is denied by policy"})
                return updated
        grace = self.policy().undo_grace
        approvals.append(self._approval(action, "approved", via, reason=reason))
        # Held: not before its time, and never before the undo grace has passed either.
        changes["next_attempt_at"] = max(utc_iso(self.now() + dt.timedelta(seconds=grace)), action.not_before or "")
        changes["snoozed_until"] = None
        if action.not_before and action.not_before > self.now_iso():
            details["held_until"] = action.not_before
        return await self._decide(action, "approved", approvals, changes, details)

    async def cancel(self, text: str, *, via: str = "cli", reason: str | None = None) -> Action:
        """Take back an approved action the executor has not taken yet (one held until its time).

        The status guard of the transition is the race with the executor: once it has marked
        the action `executing`, the cancel is refused, never half-done."""
        action = await self.find(text)
        if action.status in OPEN:
            raise CannotDecide(f"action {action.id} waits for your decision: deny it instead")
        if action.status != "approved" or action.attempts or action.flow_id is not None:
            why = "it has already been tried" if action.status == "approved" and action.attempts else (
                "it is a step of a flow (cancel the flow)" if action.flow_id else f"it is {action.status.replace('_', ' ')}")
            raise CannotDecide(f"cannot cancel action {action.id}: {why}")
        try:
            updated = await self.repo.transition(action, "cancelled", actor="user", now=self.now_iso(),
                                                 changes={"next_attempt_at": None},
                                                 details={"via": via, "reason": reason, "not_before": action.not_before})
        except Conflict as exc:
            raise CannotDecide(f"cannot cancel action {action.id}: {exc}") from None
        log.info("action %s cancelled by the person via %s", action.id, via)
        await self.changed(updated, "approved")
        return updated

    async def deny(self, text: str, *, via: str = "cli", reason: str | None = None) -> Action:
        action = await self.find(text)
        self._must_be_open(action, "deny")
        return await self._decide(action, "denied", [self._approval(action, "denied", via, reason=reason)], {},
                                  {"via": via, "reason": reason})

    async def snooze(self, text: str, until: dt.datetime, *, via: str = "cli") -> Action:
        action = await self.find(text)
        self._must_be_open(action, "snooze")
        until_s = utc_iso(until)
        # The request keeps its whole answering window after the snooze ends.
        window = action.decision.expires_in_s or 86400.0
        expires = max(action.expires_at or "", utc_iso(until + dt.timedelta(seconds=window)))
        return await self._decide(action, "snoozed", [self._approval(action, "snoozed", via, until=until_s)],
                                  {"snoozed_until": until_s, "expires_at": expires}, {"via": via, "until": until_s},
                                  expect=OPEN)

    async def undo(self, text: str, *, via: str = "cli") -> Action:
        action = await self.find(text)
        if await take_back.applies(self, action):
            # A done effect on the person's own files (a file patch): taken back by an action of its own.
            return await take_back.take_back(self, action, via=via)
        approvals = await self.repo.approvals(action.id)
        last = approvals[-1] if approvals else None
        grace = self.policy().undo_grace
        if action.status not in ("approved", "denied") or last is None or last.decision not in ("approved", "denied"):
            why = "it was decided by policy, not by you" if action.status in ("approved", "denied") else f"it is {action.status.replace('_', ' ')}"
            raise CannotDecide(f"nothing to undo on action {action.id}: {why}")
        if action.attempts:
            # The executor has already tried it (the grace ended as undo came): it may have happened.
            raise CannotDecide(f"too late to undo action {action.id}: execution has already started")
        decided = dt.datetime.fromisoformat(last.at)
        if (self.now() - decided).total_seconds() > grace:
            raise CannotDecide(f"too late to undo action {action.id}: decided more than {pol.format_duration(grace)} ago")
        return await self._decide(action, "awaiting_approval", [self._approval(action, "undone", via)],
                                  {"next_attempt_at": None}, {"via": via, "undid": last.decision})

    async def _decide(self, action: Action, to: str, approvals: list[Approval], changes: dict[str, Any], details: dict[str, Any],
                      expect: tuple[str, ...] | None = None) -> Action:
        try:
            updated = await self.repo.transition(action, to, actor="user", now=self.now_iso(), changes=changes,
                                                 approvals=approvals, details=details, expect=expect)
        except Conflict as exc:
            raise CannotDecide(f"cannot change action {action.id}: {exc}") from None
        log.info("action %s %s by the person via %s", action.id, to, details.get("via"))
        await self.changed(updated, action.status)
        return updated

    async def button_pressed(self, target: str, button: str) -> None:
        """A notification's Approve/Deny button: the same decision as from the CLI."""
        try:
            if button == "approve":
                await self.approve(target, via="notification")
            elif button == "deny":
                await self.deny(target, via="notification")
        except ActionError as exc:
            log.warning("notification button %s on %s: %s", button, target, exc.message)

    # --- events -------------------------------------------------------------------------

    async def changed(self, action: Action, old: str) -> None:
        """Announce that `action` moved from status `old`, after the change committed.

        Whoever changes an action (the desk, the executor, the flow runner) calls this: it
        publishes `action.changed` (and `approvals.changed` when the queue moved), wakes
        whoever waits for the action to settle, pokes the executor, and cancels the waiting
        steps of a flow that was denied or expired.
        """
        if action.kind == FLOW and action.status in ("denied", "expired", "cancelled"):
            await self.repo.cancel_steps(action, self.now_iso(), f"the flow was {action.status}")
        self.bus.publish("action.changed", {
            "id": action.id, "kind": action.kind, "status": action.status, "from": old, "summary": action.preview.summary,
            "trace_id": action.trace_id,
        })
        if action.status in OPEN or old in OPEN:
            self.bus.publish("approvals.changed", {"waiting": await self.repo.count(OPEN),
                                                   "snoozed": await self.repo.count(("snoozed",))})
        if action.status in FINAL or action.status in OPEN:
            for fut in self._waiters.pop(action.id, []):
                if not fut.done():
                    fut.set_result(action)
        if action.status == "approved":
            self.poke(action.next_attempt_at)
        elif action.status in OPEN:
            self.poke(min(t for t in (action.expires_at, action.snoozed_until, "9999") if t))

    def poke(self, at: str | None = None) -> None:
        """Tell the executor something changed: look at `at` (UTC ISO) at the latest, or at once."""
        self.wakeups.poke(at)

    async def wait_settled(self, action: Action, timeout: float) -> Action:
        """The action once it has finished or waits for the person (or as it is after `timeout`)."""
        if action.status in FINAL or action.status in OPEN:
            return action
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(action.id, []).append(fut)
        current = await self.repo.get(action.id)  # it may have settled before we started waiting
        if current is not None and (current.status in FINAL or current.status in OPEN):
            return current
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            return await self.repo.get(action.id) or action

    # --- pause --------------------------------------------------------------------------

    async def pause(self, until: dt.datetime | None, reason: str = "") -> PauseState:
        from oxymus.store import audit_sql

        state = PauseState(since=self.now_iso(), until=utc_iso(until) if until else None, reason=reason)
        await self.store.transaction(self.repo.pause_statements(state, self.now_iso()) + [
            audit_sql.statement(actor="user", verb="pause.started", subject="pause", trace_id=new_ulid(), details=state.model_dump()),
        ])
        log.info("automation paused until %s", state.until or "resumed")
        self.poke()  # the executor looks again: now for the pause's end, not for what is due
        self.bus.publish("pause.changed", {"pause": state.model_dump()})
        return state

    async def resume(self, actor: str = "user") -> int:
        """End the pause; stale proposals expire, summarised once. Returns how many expired."""
        from oxymus.store import audit_sql

        state = await self.repo.pause_state()
        if state is None:
            return 0
        expired = await self.expire_stale(include_approved=True)
        await self.store.transaction(self.repo.pause_statements(None, self.now_iso()) + [
            audit_sql.statement(actor=actor, verb="pause.ended", subject="pause", trace_id=new_ulid(), details={
                "since": state.since, "until": state.until, "expired": [a.id for a in expired],
            }),
        ])
        log.info("automation resumed (%s); %d stale proposal(s) expired", actor, len(expired))
        self.bus.publish("pause.changed", {"pause": None})
        if expired:
            kinds = sorted({a.kind for a in expired})
            await self.notify_person({
                "title": f"While paused, {len(expired)} proposal{'s' if len(expired) != 1 else ''} went stale",
                "body": "They expired and will not run: " + ", ".join(kinds) + ". `oxymus log --problems` lists them.",
                "urgency": "low", "kind": "pause",
            }, by="pause", reason="summary of what expired during the pause", key=f"pause-summary:{state.since}")
        self.poke()
        return len(expired)

    async def expire_stale(self, *, include_approved: bool) -> list[Action]:
        """Requests not decided in time expire (fail closed); while paused, approved ones that went stale too."""
        now = self.now_iso()
        statuses = ("awaiting_approval", "snoozed", "approved") if include_approved else ("awaiting_approval", "snoozed")
        expired: list[Action] = []
        for action in await self.repo.past("expires_at", statuses, now):
            try:
                updated = await self.repo.transition(action, "expired", actor="daemon", now=now, details={
                    "expires_at": action.expires_at,
                    "reason": "went stale while paused" if action.status == "approved" else "not decided in time",
                })
            except Conflict:
                continue
            expired.append(updated)
            log.info("action %s %s expired (%s)", action.id, action.kind, action.status)
            await self.changed(updated, action.status)
        return expired

    async def sweep(self) -> None:
        """Time-driven changes: the pause ending, requests expiring, snoozes ending."""
        pause = await self.repo.pause_state()
        if pause is not None and pause.until and pause.until <= self.now_iso():
            await self.resume(actor="daemon")
        await self.expire_stale(include_approved=False)
        now = self.now_iso()
        for action in await self.repo.past("snoozed_until", ("snoozed",), now):
            try:
                updated = await self.repo.transition(action, "awaiting_approval", actor="daemon", now=now,
                                                     changes={"snoozed_until": None}, details={"reason": "snooze ended"})
            except Conflict:
                continue
            await self.changed(updated, "snoozed")
            await self._ask(updated)
