"""The executor: takes approved actions from the store (the outbox) and performs them.

One action at a time, in the order they became due. Before the effect, the action is
marked `executing` (with its attempt counted) in a transaction that also checks the
pause; after it, the receipt and the new status commit together. A crash anywhere
leaves either `approved` (nothing happened) or `executing` (maybe it happened): at
start, `executing` actions go back to `approved` and run again, and the connector's
idempotency check finds an effect that already happened instead of repeating it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from pydantic import ValidationError

from oxymus.actions.effects import EffectError, Transient
from oxymus.actions.model import FINAL, FLOW, Action
from oxymus.daemon.coordinator import backoff_delay
from oxymus.daemon.desk import NOTIFY, ActionDesk
from oxymus.daemon.flows import FlowRunner
from oxymus.daemon.tasks import cancel
from oxymus.kernel import faults
from oxymus.sources.contract import SourceError, SourceUnavailable, utc_iso
from oxymus.store.action_repo import Conflict, receipt_row

log = logging.getLogger("oxymus.daemon.executor")

PAUSED_GUARD = "NOT EXISTS (SELECT 1 FROM settings WHERE key = 'pause')"
MAX_IDLE = 30.0  # re-check at least this often (time-driven changes, clock jumps after sleep)


class Executor:
    def __init__(self, desk: ActionDesk, *, timeout: float = 120.0):
        self.desk = desk
        self.repo = desk.repo
        self.wakeups = desk.wakeups  # the desk pokes, the executor takes
        self.timeout = timeout
        self._task: asyncio.Task | None = None
        self.running: str | None = None  # the action being executed, for status
        self.flows = FlowRunner(desk, self._tell)

    async def start(self) -> None:
        await self.recover()
        self._task = asyncio.create_task(self._loop(), name="executor")

    async def stop(self) -> None:
        await cancel(self._task)

    async def recover(self) -> None:
        """Actions a crash left `executing` go back to `approved`; their retry is idempotent."""
        flows: list[str] = []
        for action in await self.repo.list(("executing",), limit=10_000):
            if action.kind == FLOW:
                flows.append(action.id)  # a running flow is not an effect: it goes on from its steps' state
                continue
            if action.attempts >= action.max_attempts:
                # Every attempt so far ended with the daemon dying: retrying forever would be a
                # crash loop under a service manager. Fail visibly; the message says the effect
                # may have happened, so the person checks instead of trusting a silent retry.
                failed = await self.repo.transition(
                    action, "failed", actor="daemon", now=self.desk.now_iso(),
                    changes={"error": f"interrupted {action.attempts} times (the daemon died during each attempt); "
                                      "check whether it happened before proposing it again"},
                    details={"reason": "interrupted on every attempt", "attempt": action.attempts},
                )
                log.error("action %s %s failed: interrupted on all %d attempts", action.id, action.kind, action.attempts)
                await self._tell(failed)
                continue
            # It keeps the due time it ran at, so it runs again first, not after the rest of the outbox.
            await self.repo.transition(action, "approved", actor="daemon", now=self.desk.now_iso(),
                                       changes={"next_attempt_at": action.next_attempt_at or self.desk.now_iso()},
                                       details={"reason": "interrupted (the daemon stopped during execution); retrying, idempotently"})
            log.warning("action %s %s was interrupted during attempt %d; it will be retried", action.id, action.kind, action.attempts)
        # A crash between a step settling and the flow moving on: each flow takes its next step now.
        for flow_id in flows:
            await self.flows.advance(flow_id)

    async def _loop(self) -> None:
        # A full pass (sweep, due actions) reads the store; it runs when something is due, when
        # asked to at once, and every MAX_IDLE. A decision only moves the next look earlier
        # (`desk.poke(at)`, kept in `desk.wakeups`), without a query, so deciding stays cheap with a long queue.
        target: str | None = None  # None: look now
        while True:
            if target is None or target <= self.desk.now_iso():
                self.wakeups.take()  # this pass sees every change made so far
                try:
                    await self.desk.sweep()
                    if await self.repo.pause_state() is None:
                        for action in await self.repo.due(self.desk.now_iso()):
                            await self.run_one(action)
                    target = await self._next_target()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("executor pass failed; retrying shortly")
                    target = None
                    await asyncio.sleep(1.0)
                    continue
            delay = MAX_IDLE
            if target is not None:
                due = dt.datetime.fromisoformat(target)
                delay = min(MAX_IDLE, max(0.0, (due - self.desk.now()).total_seconds()))
            if not await self.wakeups.wait(delay):
                if delay >= MAX_IDLE:
                    target = None  # a periodic look: time-driven changes, a clock that jumped after sleep
                continue
            now, at = self.wakeups.take()
            if now:
                target = None
            elif at is not None and (target is None or at < target):
                target = at

    async def _next_target(self) -> str | None:
        """When the next pass is needed: the next due action, expiry or snooze end, or the pause's end."""
        pause = await self.repo.pause_state()
        # While paused, due actions wait: only expiries, snoozes and the pause's end matter.
        wake_at = await self.repo.next_wake(include_due=pause is None)
        if pause is not None and pause.until and (wake_at is None or pause.until < wake_at):
            wake_at = pause.until
        return wake_at

    async def run_one(self, action: Action) -> Action:
        """Perform one approved action (or start a flow); a flow's step or compensation that
        settles moves its flow on."""
        done = await self._start_flow(action) if action.kind == FLOW else await self._run(action)
        if done.flow_id is not None and done.status in FINAL:
            faults.point("flows.step_settled")
            await self.flows.advance(done.flow_id)
        return done

    async def _start_flow(self, flow: Action) -> Action:
        try:
            running = await self.repo.transition(
                flow, "executing", actor="executor", now=self.desk.now_iso(), changes={"attempts": flow.attempts + 1},
                details={"steps": len(flow.payload.get("steps", []))}, guard=PAUSED_GUARD,
            )
        except Conflict as exc:
            log.info("not starting flow %s: %s", flow.id, exc)
            return await self.repo.get(flow.id) or flow
        await self.desk.changed(running, "approved")
        return await self.flows.advance(running.id) or running

    async def _run(self, action: Action) -> Action:
        spec = self.desk.specs.get(action.kind)
        now = self.desk.now_iso()
        try:
            running = await self.repo.transition(
                action, "executing", actor="executor", now=now, changes={"attempts": action.attempts + 1},
                details={"attempt": action.attempts + 1}, guard=PAUSED_GUARD,
            )
        except Conflict as exc:
            log.info("not executing %s: %s", action.id, exc)
            return await self.repo.get(action.id) or action
        await self.desk.changed(running, "approved")
        faults.point("executor.marked_executing")
        if spec is None:
            return await self._fail(running, f"no connector performs {action.kind} any more (was it uninstalled?)")
        original = await self.repo.get(action.compensates) if action.compensates else None
        if action.compensates and (original is None or original.receipt is None):
            return await self._fail(running, f"the step it takes back ({action.compensates}) has no receipt")
        self.running = action.id
        try:
            payload = spec.parse(running.payload)
            if original is not None and original.receipt is not None:
                ctx = self.desk.context(running, compensates_key=original.idempotency_key)
                receipt = await asyncio.wait_for(spec.compensate(payload, original.receipt, ctx), self.timeout)
            else:
                ctx = self.desk.context(running)
                receipt = await asyncio.wait_for(spec.execute(payload, ctx), self.timeout)
        except (Transient, SourceUnavailable, asyncio.TimeoutError) as exc:
            message = str(exc) or f"timed out after {self.timeout:.0f}s"
            return await self._retry_or_fail(running, message, getattr(exc, "retry_after", None))
        except ValidationError as exc:
            return await self._fail(running, f"the stored payload is no longer valid: {exc.errors()[0]['msg']}", invalid=True)
        except asyncio.CancelledError:
            raise  # shutdown: the action stays executing and is recovered at the next start
        except (EffectError, SourceError) as exc:  # Permanent, NeedsHuman: the message says it all
            return await self._fail(running, str(exc) or type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - a bug in a connector fails the action visibly, never the daemon
            log.exception("executing %s %s raised", action.id, action.kind)
            return await self._fail(running, f"{type(exc).__name__}: {exc} (a bug in the {action.kind.split('.')[0]} connector)")
        finally:
            self.running = None
        faults.point("executor.effect_done")
        now = self.desk.now_iso()
        extra = []
        if original is not None:
            # The step it took back becomes `compensated` in the same transaction as this receipt.
            from oxymus.store import audit_sql

            extra = [("UPDATE actions SET status = 'compensated', updated_at = ? WHERE id = ? AND status = 'succeeded'", (now, original.id)),
                     audit_sql.statement(actor="executor", verb="action.compensated", subject=original.id, trace_id=original.trace_id,
                                         details={"from": "succeeded", "kind": original.kind, "by": running.id, "receipt": receipt.summary})]
        done = await self.repo.transition(
            running, "succeeded", actor="executor", now=now, changes={"receipt": receipt.model_dump(mode="json"), "error": None},
            receipt=receipt_row(running, receipt, now), extra=extra,
            details={"receipt": receipt.summary, "ref": receipt.ref, "already_done": receipt.already_done, "attempt": running.attempts},
        )
        log.info("action %s %s succeeded: %s%s", action.id, action.kind, receipt.summary, " (found already done)" if receipt.already_done else "")
        await self.desk.changed(done, "executing")
        if done.kind == NOTIFY:
            await self.desk.notices.delivered(done)
        return done

    async def _retry_or_fail(self, action: Action, message: str, retry_after: float | None) -> Action:
        if action.attempts >= action.max_attempts:
            return await self._fail(action, f"{message} (gave up after {action.attempts} attempts)")
        delay = backoff_delay(action.attempts, retry_after)
        when = utc_iso(self.desk.now() + dt.timedelta(seconds=delay))
        updated = await self.repo.transition(
            action, "approved", actor="executor", now=self.desk.now_iso(), changes={"next_attempt_at": when, "error": message},
            details={"error": message, "retry_at": when, "attempt": action.attempts},
        )
        log.warning("action %s %s attempt %d failed: %s; retrying at %s", action.id, action.kind, action.attempts, message, when)
        await self.desk.changed(updated, "executing")
        return updated

    async def _fail(self, action: Action, message: str, invalid: bool = False) -> Action:
        updated = await self.repo.transition(
            action, "failed", actor="executor", now=self.desk.now_iso(), changes={"error": message},
            details={"error": message, "attempt": action.attempts},
        )
        log.error("action %s %s failed: %s", action.id, action.kind, message)
        await self.desk.changed(updated, "executing")
        if action.kind == NOTIFY:
            await self.desk.notices.failed(updated, invalid)  # it may still reach a TUI, else the missed list
        if action.flow_id is None:  # a flow's step or compensation: the flow tells, once, with what it did about it
            await self._tell(updated)
        return updated

    async def _tell(self, action: Action) -> None:
        """A failure is never silent: the person is notified (unless the notification itself failed)."""
        if action.kind == NOTIFY:
            return
        head = "Failed and taken back" if action.status == "compensated" else "Failed"
        await self.desk.notify_person({
            "title": f"{head}: {action.preview.summary}"[:200],
            "body": f"{action.error}\n`oxymus explain {action.id}` shows what happened."[:2000],
            "urgency": "critical" if action.risk == "high" else "normal", "kind": "failure", "facts": [f"failed:{action.id}"],
        }, by="executor", reason=f"action {action.id} failed", key=f"failed:{action.id}", trace_id=action.trace_id)
