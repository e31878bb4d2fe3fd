"""The action desk and the executor on a real SQLite store, with a fake action kind and an injected clock.

Nothing runs in the background: the tests call `sweep()` and `Executor.run_one()` themselves
(`Harness.tick`), so every step is deterministic. `Harness` is also used by
test_policy_properties.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel, ConfigDict, Field

from oxymus.actions.effects import ActionInvalid, ActionSpec, Permanent, Preview, Receipt, Transient
from oxymus.actions.errors import ActionError
from oxymus.actions.model import Proposer
from oxymus.daemon.desk import ActionDesk
from oxymus.daemon.events import EventBus
from oxymus.daemon.executor import Executor
from oxymus.kernel import faults
from oxymus.sources.contract import utc_iso
from oxymus.store import audit_sql
from oxymus.store.repos import Store

T0 = dt.datetime(2026, 6, 3, 10, 0, tzinfo=dt.timezone.utc)
AGENT = Proposer(type="agent", name="bot")


class DoPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(default=0, ge=0)
    title: str = "thing"
    # how execute() behaves: fail `fail_times` times with `fail` first, then succeed
    fail: Literal["none", "transient", "permanent", "bug"] = "none"
    fail_times: int = 1000
    retry_after: float | None = None


class FakeSpec(ActionSpec):
    """A kind whose execute() counts its calls and its effects, and fails when told to.

    Idempotent on the action's key like a real connector: an effect already done is
    found again (already_done) instead of being repeated.
    """

    Payload = DoPayload
    max_attempts = 3

    def __init__(self, kind: str = "test.do", scope: str = "external", max_attempts: int = 3):
        super().__init__()
        self.kind = kind
        self.scope = scope
        self.max_attempts = max_attempts
        self.calls: list[str] = []  # action ids, one per execute() call
        self.effects: dict[str, int] = {}  # idempotency key -> times the effect was performed
        self.failures: dict[str, int] = {}
        self.observer = None  # async (ctx) -> None, called first thing in execute()

    async def prepare(self, payload: DoPayload, ctx):
        if payload.title == "reject":
            raise ActionInvalid("title: this title is refused by the connector")
        from oxymus.actions.effects import Prepared

        return Prepared(payload=payload.model_dump(mode="json"), preview=Preview(summary=f"{self.kind} {payload.title} #{payload.n}"))

    async def execute(self, payload: DoPayload, ctx) -> Receipt:
        self.calls.append(ctx.action_id)
        if self.observer is not None:
            await self.observer(ctx)
        key = ctx.idempotency_key
        if key in self.effects:
            return Receipt(summary=f"found {key} already done", ref=key, already_done=True)
        if payload.fail != "none" and self.failures.get(key, 0) < payload.fail_times:
            self.failures[key] = self.failures.get(key, 0) + 1
            if payload.fail == "transient":
                raise Transient("server busy", retry_after=payload.retry_after)
            if payload.fail == "permanent":
                raise Permanent("the server refused it")
            raise RuntimeError("boom")
        self.effects[key] = self.effects.get(key, 0) + 1
        return Receipt(summary=f"did {key}", ref=key)


class NotifyPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    body: str = ""
    urgency: str = "normal"
    buttons: list[dict[str, Any]] = Field(default_factory=list)
    decides: str | None = None
    kind: str = "general"
    facts: list[str] = Field(default_factory=list)


class FakeNotify(FakeSpec):
    Payload = NotifyPayload

    def __init__(self):
        super().__init__("notify.send", "local", 3)
        self.sent: list[NotifyPayload] = []

    async def prepare(self, payload, ctx):
        from oxymus.actions.effects import Prepared

        return Prepared(payload=payload.model_dump(mode="json"), preview=Preview(summary=payload.title, format="message"))

    async def execute(self, payload, ctx) -> Receipt:
        self.calls.append(ctx.action_id)
        if self.observer is not None:
            await self.observer(ctx)
        self.sent.append(payload)
        return Receipt(summary=f"notified: {payload.title}")


class Crash(Exception):
    """The daemon dying at a fault point (in-process stand-in for OXYMUS_FAULT_KILL)."""


class Harness:
    """A store file, a desk and an executor on an injected clock; reopened like a restarted daemon."""

    def __init__(self, directory: Path, *, notify: bool = True, zone: str = "UTC"):
        self.dir = Path(directory)
        self.db_path = str(self.dir / "oxymus.db")
        self.policy_path = self.dir / "policy.toml"
        self.zone = ZoneInfo(zone)
        self.clock = T0
        self.spec = FakeSpec()
        self.local_spec = FakeSpec("test.local", "local")
        self.notify = FakeNotify() if notify else None
        self.specs: dict[str, ActionSpec] = {s.kind: s for s in (self.spec, self.local_spec, self.notify) if s is not None}
        self._mtime = 1_000_000_000 * 10**9
        self.store: Store | None = None

    async def open(self) -> "Harness":
        self.store = await Store.open(self.db_path)
        self.bus = EventBus()
        self.desk = ActionDesk(self.store, self.bus, self.specs, policy_path=str(self.policy_path), zone=self.zone,
                               config_dir=str(self.dir), now=self.now)
        self.repo = self.desk.repo
        self.executor = Executor(self.desk, timeout=10)
        return self

    async def close(self) -> None:
        if self.store is not None:
            await self.store.close()
            self.store = None

    async def restart(self) -> None:
        """A new daemon on the same files: a new store connection, desk and executor, then recover()."""
        await self.close()
        await self.open()
        await self.executor.recover()

    # time and policy

    def now(self) -> dt.datetime:
        return self.clock

    def advance(self, seconds: float) -> None:
        self.clock += dt.timedelta(seconds=seconds)

    def write_policy(self, text: str | None) -> None:
        """Write (or remove) policy.toml; a distinct mtime each time so the desk always re-reads it."""
        if text is None:
            self.policy_path.unlink(missing_ok=True)
        else:
            self.policy_path.write_text(text)
            self._mtime += 10**9
            os.utime(self.policy_path, ns=(self._mtime, self._mtime))
        self.desk.policy()

    # one pass of the executor, as its loop does it

    async def run_due(self) -> list:
        """Execute every due action (even while paused: the database guard must refuse)."""
        return [await self.executor.run_one(a) for a in await self.repo.due(self.desk.now_iso())]

    async def tick(self) -> None:
        await self.desk.sweep()
        if await self.repo.pause_state() is None:
            await self.run_due()

    # reading

    async def get(self, action_id: str):
        action = await self.repo.get(action_id)
        assert action is not None
        return action

    async def audit(self, action) -> list:
        return await self.store.audit.query(trace_id=action.trace_id, limit=1000)

    async def notifications(self) -> list:
        return [a for a in await self.repo.list(limit=1000) if a.kind == "notify.send"]


@pytest.fixture
async def h(tmp_path):
    harness = await Harness(tmp_path).open()
    yield harness
    await harness.close()


REQUIRE = '[[rule]]\nkind = "test.*"\noutcome = "require_approval"\n'
ALLOW = '[[rule]]\nkind = "test.*"\noutcome = "allow"\n'


def rpc_error(exc_info) -> str:
    assert issubclass(exc_info.type, ActionError)
    return exc_info.value.message


# --- proposals ----------------------------------------------------------------------------


async def test_propose_is_idempotent_by_key(h):
    a, created = await h.desk.propose("test.do", {"n": 1}, key="k-1", reason="first")
    assert created and a.status == "awaiting_approval" and a.idempotency_key == "k-1"
    again, created = await h.desk.propose("test.do", {"n": 2}, key="k-1", reason="second")
    assert not created and again.id == a.id and again.payload["n"] == 1
    assert len([x for x in await h.repo.list(limit=100) if x.kind == "test.do"]) == 1
    verbs = [e.verb for e in await h.audit(a) if e.subject == a.id]
    assert verbs == ["action.proposed", "action.awaiting_approval"]
    b, created = await h.desk.propose("test.do", {"n": 1})
    assert created and b.id != a.id and b.idempotency_key == f"action:{b.id}"


async def test_a_proposal_is_recorded_with_its_decision_and_asks_the_person(h):
    a, _ = await h.desk.propose("test.do", {"n": 1, "title": "post"}, proposer=AGENT, reason="because", confidence=0.7)
    assert a.decision.outcome == "require_approval" and a.decision.rule == "default: side effects need your approval"
    assert a.preview.summary == "test.do post #1" and a.confidence == 0.7 and a.max_attempts == 3
    assert a.expires_at == utc_iso(T0 + dt.timedelta(days=1))
    events = await h.audit(a)
    assert [(e.verb, e.actor) for e in events][:2] == [("action.proposed", "agent:bot"), ("action.awaiting_approval", "policy")]
    assert all(e.trace_id == a.trace_id for e in events)
    [ask] = await h.notifications()
    assert ask.trace_id == a.trace_id and ask.payload["decides"] == a.id and ask.status == "approved"
    assert ask.payload["title"] == "Approve? test.do post #1"


async def test_unknown_kind_names_the_known_ones(h):
    with pytest.raises(ActionError) as info:
        await h.desk.propose("test.nope", {})
    assert rpc_error(info) == "unknown action kind 'test.nope' (known kinds: notify.send, test.do, test.local)"
    assert await h.repo.list(limit=10) == []


@pytest.mark.parametrize("payload, message", [
    ({"n": -1}, "test.do: payload.n: Input should be greater than or equal to 0"),
    ({"n": "many"}, "test.do: payload.n: Input should be a valid integer"),
    ({"bogus": 1}, "test.do: payload.bogus: unknown field"),
    ({"fail": "sometimes"}, "test.do: payload.fail: Input should be 'none', 'transient', 'permanent' or 'bug'"),
    ({"title": "reject"}, "test.do: title: this title is refused by the connector"),
])
async def test_invalid_payload_names_the_field(h, payload, message):
    with pytest.raises(ActionError) as info:
        await h.desk.propose("test.do", payload)
    assert rpc_error(info).startswith(message)
    assert await h.repo.list(limit=10) == []


async def test_allowed_by_policy_runs_after_no_grace_and_denied_never_runs(h):
    h.write_policy(ALLOW + '\n[[rule]]\nmatch = { n = { gt = 100 } }\noutcome = "deny"\n')
    ok, _ = await h.desk.propose("test.do", {"n": 1})
    no, _ = await h.desk.propose("test.do", {"n": 101})
    assert ok.status == "approved" and ok.next_attempt_at == utc_iso(T0)
    assert no.status == "denied" and no.decision.rule == "rule 2"
    await h.tick()
    assert (await h.get(ok.id)).status == "succeeded" and (await h.get(no.id)).status == "denied"
    assert h.spec.calls == [ok.id]
    [receipt] = await h.repo.receipts(ok.id)
    assert receipt.attempt == 1 and receipt.ref == ok.idempotency_key


# --- decisions -----------------------------------------------------------------------------


async def test_approve_with_an_edit_is_decided_again_and_a_denied_edit_ends_denied(h):
    h.write_policy(REQUIRE + '\n[[rule]]\nname = "too big"\nmatch = { n = { gt = 100 } }\noutcome = "deny"\n')
    a, _ = await h.desk.propose("test.do", {"n": 5})
    denied = await h.desk.approve(a.id, payload={"n": 500})
    assert denied.status == "denied" and denied.payload["n"] == 500
    assert denied.decision.outcome == "deny" and denied.decision.rule == "too big"
    assert [x.decision for x in await h.repo.approvals(a.id)] == ["edited"]
    last = (await h.audit(a))[-1]
    assert last.verb == "action.denied" and last.details["reason"] == "the edited payload is denied by policy"
    with pytest.raises(ActionError) as info:
        await h.desk.undo(a.id)
    assert "decided by policy, not by you" in rpc_error(info)
    h.advance(60)
    await h.tick()
    assert h.spec.calls == []


async def test_approve_with_an_allowed_edit_runs_the_edited_payload(h):
    a, _ = await h.desk.propose("test.do", {"n": 5, "title": "old"})
    b = await h.desk.approve(a.id, payload={"n": 6, "title": "new"}, via="tui")
    assert b.status == "approved" and b.payload["n"] == 6 and b.preview.summary == "test.do new #6"
    assert [(x.decision, x.via) for x in await h.repo.approvals(a.id)] == [("edited", "tui"), ("approved", "tui")]
    with pytest.raises(ActionError) as info:
        await h.desk.approve(a.id, payload={"n": -1})
    assert "cannot approve" in rpc_error(info)
    h.advance(10)
    await h.tick()
    assert (await h.get(a.id)).status == "succeeded"


async def test_an_invalid_edit_changes_nothing(h):
    a, _ = await h.desk.propose("test.do", {"n": 5})
    with pytest.raises(ActionError) as info:
        await h.desk.approve(a.id, payload={"n": -3})
    assert rpc_error(info).startswith("test.do: payload.n:")
    assert (await h.get(a.id)).status == "awaiting_approval" and await h.repo.approvals(a.id) == []


async def test_undo_within_the_grace_and_not_after(h):
    a, _ = await h.desk.propose("test.do", {"n": 1})
    approved = await h.desk.approve(a.id)
    assert approved.next_attempt_at == utc_iso(T0 + dt.timedelta(seconds=10))
    await h.tick()
    assert h.spec.calls == []  # the grace has not passed
    h.advance(9)
    undone = await h.desk.undo(a.id)
    assert undone.status == "awaiting_approval" and undone.next_attempt_at is None
    assert [x.decision for x in await h.repo.approvals(a.id)] == ["approved", "undone"]
    h.advance(60)
    await h.tick()
    assert h.spec.calls == [] and (await h.get(a.id)).status == "awaiting_approval"

    await h.desk.deny(a.id, reason="no")
    h.advance(11)
    with pytest.raises(ActionError) as info:
        await h.desk.undo(a.id)
    assert rpc_error(info) == f"too late to undo action {a.id}: decided more than 10s ago"
    assert (await h.get(a.id)).status == "denied"


async def test_undo_of_a_denial_asks_again(h):
    a, _ = await h.desk.propose("test.do", {"n": 1})
    await h.desk.deny(a.id)
    back = await h.desk.undo(a.id)
    assert back.status == "awaiting_approval"
    await h.desk.approve(a.id)
    h.advance(10)
    await h.tick()
    assert (await h.get(a.id)).status == "succeeded"


async def test_undo_is_refused_once_execution_has_started(h):
    """At the very end of the grace the executor may take the action: undo must not pull it back then."""
    a, _ = await h.desk.propose("test.do", {"n": 1, "fail": "transient", "fail_times": 1})
    await h.desk.approve(a.id)
    h.advance(10)  # exactly the grace: due now, and still within the undo window
    await h.run_due()
    retry = await h.get(a.id)
    assert retry.status == "approved" and retry.attempts == 1
    with pytest.raises(ActionError) as info:
        await h.desk.undo(a.id)
    assert "execution has already started" in rpc_error(info)


async def test_undo_of_a_policy_decision_is_refused(h):
    h.write_policy(ALLOW)
    a, _ = await h.desk.propose("test.do", {"n": 1})
    with pytest.raises(ActionError) as info:
        await h.desk.undo(a.id)
    assert rpc_error(info) == f"nothing to undo on action {a.id}: it was decided by policy, not by you"


async def test_a_decision_on_an_action_already_decided_is_refused(h):
    a, _ = await h.desk.propose("test.do", {"n": 1})
    await h.desk.approve(a.id, via="tui")
    with pytest.raises(ActionError) as info:
        await h.desk.deny(a.id, via="notification")
    assert rpc_error(info) == f"cannot deny action {a.id}: it is approved"
    # A decider that read the action before the other one decided (a race) gets the same kind of answer.
    b, _ = await h.desk.propose("test.do", {"n": 2})
    stale = await h.get(b.id)
    await h.desk.deny(b.id)

    async def find_stale(text):
        return stale

    h.desk.find = find_stale
    with pytest.raises(ActionError) as info:
        await h.desk.approve(b.id)
    assert rpc_error(info) == f"cannot change action {b.id}: action {b.id} is denied, not awaiting_approval"
    assert (await h.get(b.id)).status == "denied"
    assert [x.decision for x in await h.repo.approvals(b.id)] == ["denied"]  # the loser's approval row rolled back


async def test_two_deciders_racing_only_one_wins(h):
    a, _ = await h.desk.propose("test.do", {"n": 1})
    results = await asyncio.gather(h.desk.approve(a.id), h.desk.deny(a.id), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], ActionError)
    assert errors[0].message.startswith(f"cannot change action {a.id}: ") or errors[0].message.startswith("cannot ")
    final = await h.get(a.id)
    assert final.status in ("approved", "denied")
    assert [x.decision for x in await h.repo.approvals(a.id)] == [final.status]


async def test_undecided_requests_expire_and_never_run(h):
    h.write_policy(REQUIRE + '\n[expiry]\n"test.*" = "1h"\n')
    a, _ = await h.desk.propose("test.do", {"n": 1})
    assert a.expires_at == utc_iso(T0 + dt.timedelta(hours=1))
    h.advance(3599)
    await h.tick()
    assert (await h.get(a.id)).status == "awaiting_approval"
    h.advance(1)
    await h.tick()
    expired = await h.get(a.id)
    assert expired.status == "expired"
    last = (await h.audit(a))[-1]
    assert last.verb == "action.expired" and last.details["reason"] == "not decided in time" and last.trace_id == a.trace_id
    with pytest.raises(ActionError) as info:
        await h.desk.approve(a.id)
    assert rpc_error(info) == f"cannot approve action {a.id}: it is expired"
    await h.tick()
    assert h.spec.calls == []


async def test_a_request_past_its_deadline_cannot_be_approved_even_before_the_sweep(h):
    h.write_policy(REQUIRE + '\n[expiry]\n"test.*" = "1h"\n')
    a, _ = await h.desk.propose("test.do", {"n": 1})
    h.advance(3600)  # a button pressed late, or the laptop just woke up: no sweep yet
    with pytest.raises(ActionError) as info:
        await h.desk.approve(a.id, via="notification")
    assert rpc_error(info) == f"cannot approve action {a.id}: the request expired at {utc_iso(T0 + dt.timedelta(hours=1))}"
    assert await h.repo.approvals(a.id) == []
    await h.tick()
    assert (await h.get(a.id)).status == "expired" and h.spec.calls == []


async def test_snooze_ends_and_asks_again(h):
    a, _ = await h.desk.propose("test.do", {"n": 1})
    assert len(await h.notifications()) == 1
    snoozed = await h.desk.snooze(a.id, T0 + dt.timedelta(hours=2))
    assert snoozed.status == "snoozed" and snoozed.snoozed_until == utc_iso(T0 + dt.timedelta(hours=2))
    assert snoozed.expires_at == utc_iso(T0 + dt.timedelta(hours=2, days=1))  # the whole window after the snooze
    [approval] = await h.repo.approvals(a.id)
    assert approval.decision == "snoozed" and approval.until == snoozed.snoozed_until
    # snoozed again, later
    again = await h.desk.snooze(a.id, T0 + dt.timedelta(hours=3))
    assert again.status == "snoozed" and again.snoozed_until == utc_iso(T0 + dt.timedelta(hours=3))
    h.advance(2 * 3600)
    await h.tick()
    assert (await h.get(a.id)).status == "snoozed"
    h.advance(3600)
    await h.tick()
    back = await h.get(a.id)
    assert back.status == "awaiting_approval" and back.snoozed_until is None
    asks = [n for n in await h.notifications() if n.payload.get("decides") == a.id]
    assert len(asks) == 2 and all(n.trace_id == a.trace_id for n in asks)
    assert [e for e in await h.audit(a) if e.subject == a.id][-1].details["reason"] == "snooze ended"
    await h.desk.approve(a.id)
    h.advance(10)
    await h.tick()
    assert (await h.get(a.id)).status == "succeeded"


async def test_approve_from_snoozed(h):
    a, _ = await h.desk.propose("test.do", {"n": 1})
    await h.desk.snooze(a.id, T0 + dt.timedelta(hours=2))
    b = await h.desk.approve(a.id)
    assert b.status == "approved" and b.snoozed_until is None


# --- the pause -----------------------------------------------------------------------------


async def test_pause_survives_a_restart_and_ends_by_itself(tmp_path):
    h = await Harness(tmp_path).open()
    h.write_policy(ALLOW)
    try:
        state = await h.desk.pause(T0 + dt.timedelta(hours=2), reason="not today")
        assert state.until == utc_iso(T0 + dt.timedelta(hours=2))
        await h.close()

        h2 = Harness(tmp_path)
        h2.clock = h.clock
        await h2.open()
        h = h2
        assert (await h.repo.pause_state()).reason == "not today"
        a, _ = await h.desk.propose("test.do", {"n": 1})
        assert a.status == "approved"
        await h.run_due()  # the executor's guard refuses while paused
        await h.tick()
        assert h.spec.calls == [] and (await h.get(a.id)).status == "approved"
        h.advance(2 * 3600 - 1)
        await h.tick()
        assert h.spec.calls == [] and await h.repo.pause_state() is not None
        h.advance(1)
        await h.tick()
        assert await h.repo.pause_state() is None
        assert (await h.get(a.id)).status == "succeeded"
        ended = await h.store.audit.query(verb="pause.ended")
        assert len(ended) == 1 and ended[0].actor == "daemon"
    finally:
        await h.close()


async def test_resume_expires_stale_approved_actions_with_one_summary(h):
    h.write_policy(ALLOW + '\n[expiry]\n"test.*" = "1h"\n')
    await h.desk.pause(None)
    stale = [(await h.desk.propose("test.do", {"n": i}))[0] for i in range(3)]
    h.advance(2 * 3600)
    fresh, _ = await h.desk.propose("test.do", {"n": 9})
    await h.tick()
    assert h.spec.calls == [] and [(await h.get(a.id)).status for a in stale] == ["approved"] * 3
    assert await h.desk.resume() == 3
    for a in stale:
        a = await h.get(a.id)
        assert a.status == "expired"
        assert (await h.audit(a))[-1].details["reason"] == "went stale while paused"
    [summary] = await h.notifications()
    assert summary.payload["title"] == "While paused, 3 proposals went stale" and summary.proposer.name == "pause"
    assert await h.desk.resume() == 0  # not paused any more: nothing, and no second summary
    await h.tick()
    assert h.spec.calls == [fresh.id] and (await h.get(fresh.id)).status == "succeeded"
    assert len(h.notify.sent) == 1
    assert len(await h.notifications()) == 1


# --- the executor --------------------------------------------------------------------------


async def test_transient_failures_are_retried_with_backoff(h):
    h.write_policy(ALLOW)
    a, _ = await h.desk.propose("test.do", {"n": 1, "fail": "transient", "fail_times": 2})
    await h.tick()
    first = await h.get(a.id)
    assert first.status == "approved" and first.attempts == 1 and first.error == "server busy"
    assert first.next_attempt_at > h.desk.now_iso()
    await h.tick()
    assert h.spec.calls == [a.id]  # not due yet
    retry_line = (await h.audit(a))[-1]
    assert retry_line.verb == "action.approved" and retry_line.details["retry_at"] == first.next_attempt_at
    h.clock = dt.datetime.fromisoformat(first.next_attempt_at)
    await h.tick()
    second = await h.get(a.id)
    assert second.attempts == 2 and second.next_attempt_at > first.next_attempt_at
    h.clock = dt.datetime.fromisoformat(second.next_attempt_at)
    await h.tick()
    done = await h.get(a.id)
    assert done.status == "succeeded" and done.attempts == 3 and done.error is None
    assert [r.attempt for r in await h.repo.receipts(a.id)] == [3]


async def test_retry_after_is_respected(h):
    h.write_policy(ALLOW)
    a, _ = await h.desk.propose("test.do", {"n": 1, "fail": "transient", "fail_times": 1, "retry_after": 600})
    await h.tick()
    assert (await h.get(a.id)).next_attempt_at >= utc_iso(T0 + dt.timedelta(seconds=600))


async def test_transient_failures_give_up_after_max_attempts_and_tell_the_person(h):
    h.write_policy(ALLOW)
    a, _ = await h.desk.propose("test.do", {"n": 1, "fail": "transient"})
    for _ in range(10):
        h.advance(3600)
        await h.tick()
    failed = await h.get(a.id)
    assert failed.status == "failed" and failed.attempts == 3 == failed.max_attempts
    assert failed.error == "server busy (gave up after 3 attempts)"
    assert h.spec.calls == [a.id] * 3
    [note] = [n for n in await h.notifications() if n.idempotency_key == f"failed:{a.id}"]
    assert note.trace_id == a.trace_id and note.payload["title"] == "Failed: test.do thing #1"
    assert "server busy" in note.payload["body"] and note.status == "succeeded"  # sent by the same executor pass


async def test_a_permanent_failure_fails_at_once(h):
    h.write_policy(ALLOW)
    a, _ = await h.desk.propose("test.do", {"n": 1, "fail": "permanent"})
    await h.tick()
    failed = await h.get(a.id)
    assert failed.status == "failed" and failed.attempts == 1 and failed.error == "the server refused it"
    assert any(n.idempotency_key == f"failed:{a.id}" for n in await h.notifications())
    assert (await h.store.audit.query(problems=True))[0].subject == a.id


async def test_a_bug_in_execute_fails_the_action_and_the_executor_goes_on(h):
    h.write_policy(ALLOW)
    bad, _ = await h.desk.propose("test.do", {"n": 1, "fail": "bug"})
    good, _ = await h.desk.propose("test.do", {"n": 2})
    await h.tick()
    failed = await h.get(bad.id)
    assert failed.status == "failed" and failed.error == "RuntimeError: boom (a bug in the test connector)"
    assert (await h.get(good.id)).status == "succeeded"


async def test_recover_retries_an_interrupted_action_idempotently(tmp_path, monkeypatch):
    h = await Harness(tmp_path).open()
    try:
        h.write_policy(ALLOW)
        a, _ = await h.desk.propose("test.do", {"n": 1})

        def die(name):
            if name == "executor.effect_done":
                raise Crash(name)

        monkeypatch.setattr(faults, "point", die)
        with pytest.raises(Crash):
            await h.run_due()
        monkeypatch.undo()
        assert (await h.get(a.id)).status == "executing" and h.spec.effects == {a.idempotency_key: 1}
        assert await h.repo.receipts(a.id) == []

        await h.restart()  # recover(): executing -> approved
        back = await h.get(a.id)
        assert back.status == "approved" and back.attempts == 1
        assert "interrupted" in (await h.audit(a))[-1].details["reason"]
        await h.tick()
        done = await h.get(a.id)
        assert done.status == "succeeded" and done.attempts == 2 and done.receipt.already_done
        assert h.spec.effects == {a.idempotency_key: 1} and h.spec.calls == [a.id, a.id]
        [receipt] = await h.repo.receipts(a.id)
        assert receipt.already_done and receipt.attempt == 2
    finally:
        await h.close()


async def test_an_action_that_kills_the_daemon_every_time_fails_instead_of_crash_looping(tmp_path, monkeypatch):
    h = await Harness(tmp_path).open()
    try:
        h.write_policy(ALLOW)
        a, _ = await h.desk.propose("test.do", {"n": 1})

        def die(name):
            if name == "executor.marked_executing":
                raise Crash(name)

        monkeypatch.setattr(faults, "point", die)
        for _ in range(a.max_attempts):
            with pytest.raises(Crash):
                await h.run_due()
            await h.restart()
        monkeypatch.undo()
        failed = await h.get(a.id)
        assert failed.status == "failed" and f"interrupted {a.max_attempts} times" in failed.error
        assert failed.attempts == a.max_attempts and h.spec.calls == []
        assert any(n.idempotency_key == f"failed:{a.id}" for n in await h.notifications())
    finally:
        await h.close()


async def test_an_uninstalled_kind_fails_visibly(h):
    h.write_policy(ALLOW)
    a, _ = await h.desk.propose("test.do", {"n": 1})
    del h.desk.specs["test.do"]
    await h.tick()
    failed = await h.get(a.id)
    assert failed.status == "failed" and "no connector performs test.do" in failed.error


# --- the audit log -------------------------------------------------------------------------


async def test_audit_prune_keeps_problem_traces_and_refuses_recent_deletes(h, monkeypatch):
    monkeypatch.setattr(audit_sql, "now_iso", h.desk.now_iso)  # audit lines on the test clock
    h.write_policy(ALLOW + '\n[[rule]]\nmatch = { n = { gt = 100 } }\noutcome = "deny"\n')
    routine, _ = await h.desk.propose("test.do", {"n": 1})
    denied, _ = await h.desk.propose("test.do", {"n": 101})
    failed, _ = await h.desk.propose("test.do", {"n": 2, "fail": "permanent"})
    h.write_policy(REQUIRE + '\n[expiry]\n"test.*" = "1h"\n')
    expired, _ = await h.desk.propose("test.do", {"n": 3})
    await h.tick()
    h.advance(2 * 3600)
    await h.tick()
    assert [(await h.get(x.id)).status for x in (routine, denied, failed, expired)] == ["succeeded", "denied", "failed", "expired"]

    h.advance(400 * 86400)
    h.write_policy(ALLOW)
    recent, _ = await h.desk.propose("test.do", {"n": 4})
    await h.tick()
    counts = {x.id: len(await h.audit(x)) for x in (routine, denied, failed, expired, recent)}
    assert all(counts.values())

    cutoff = utc_iso(h.now() - dt.timedelta(days=30))
    pruned = await h.store.audit.prune(cutoff)
    assert pruned == counts[routine.id]
    assert await h.audit(routine) == []
    for x in (denied, failed, expired, recent):
        assert len(await h.audit(x)) == counts[x.id], x.status
    assert await h.store.audit.prune(cutoff) == 0

    with pytest.raises(sqlite3.IntegrityError, match="audit_log is append-only"):
        await h.store.db.execute("DELETE FROM audit_log WHERE trace_id = ?", (recent.trace_id,))
    with pytest.raises(sqlite3.IntegrityError, match="audit_log is append-only"):
        await h.store.db.execute("DELETE FROM audit_log WHERE trace_id = ?", (denied.trace_id,))
    assert len(await h.audit(recent)) == counts[recent.id]


async def test_a_kind_can_set_its_own_request_expiry_and_scope_per_payload(h):
    class Pushy(FakeSpec):
        expiry = 3 * 86400.0

        def scope_of(self, payload):
            return "local" if payload.n < 10 else "external"

        def risk_of(self, payload):
            return "low" if payload.n < 10 else "high"

    spec = Pushy("test.pushy", "external")
    h.desk.specs[spec.kind] = spec
    small, _ = await h.desk.propose("test.pushy", {"n": 1})
    big, _ = await h.desk.propose("test.pushy", {"n": 50})
    assert small.status == "approved" and small.risk == "low"
    assert big.status == "awaiting_approval" and big.risk == "high" and big.decision.expires_in_s == 3 * 86400
    h.write_policy('[expiry]\n"test.*" = "1h"\n')
    again, _ = await h.desk.propose("test.pushy", {"n": 60})
    assert again.decision.expires_in_s == 3600  # the person's policy wins over the kind's default
