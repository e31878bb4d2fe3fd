"""Properties of the policy plane, checked by hypothesis.

1. `decide()` over random rule sets and requests, against an independent reading of the
   rules: a matching deny always wins, otherwise the first match decides, otherwise the
   built-in defaults; deterministic; one path entry per rule (plus the defaults looked at).
2. Random sequences of proposals, decisions, pauses, clock jumps, executor passes, crashes
   and restarts over the REAL desk, executor and SQLite store, with invariants checked
   after every step and inside every execute() call.
3. The database trigger that refuses `executing` without an approval, hit directly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fnmatch
import json
import shutil
import sqlite3
import tempfile
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_actions_desk import ALLOW, REQUIRE, Crash, Harness

from oxymus.actions import policy as pol
from oxymus.actions.errors import ActionError
from oxymus.actions.model import TRANSITIONS, Proposer, check_transition
from oxymus.kernel import faults

# --- 1. decide() ---------------------------------------------------------------------------

KINDS = ["git.push", "git.commit", "notify.send", "bills.mark_paid", "calendar.create_event"]
KIND_PATTERNS = ["*", "git.*", "git.push", "notify.*", "*.send", "bills.mark_paid", "cal*", "nope.*"]
AGENTS = ["bot", "triage-bot", "planner"]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
NUMERIC_OPS = ["eq", "ne", "gt", "ge", "lt", "le"]


def _numeric_condition():
    return st.one_of(
        st.integers(0, 300),  # shorthand: ==
        st.lists(st.integers(0, 300), min_size=1, max_size=3),  # shorthand: in
        st.dictionaries(st.sampled_from(NUMERIC_OPS), st.integers(0, 300), min_size=1, max_size=2),
        st.builds(lambda b: {"exists": b}, st.booleans()),
    )


def _string_condition():
    branches = st.sampled_from(["main", "dev", "feature/x", "fix/y"])
    return st.one_of(
        branches,
        st.lists(branches, min_size=1, max_size=2),
        st.builds(lambda v: {"ne": v}, branches),
        st.builds(lambda v: {"not_in": v}, st.lists(branches, min_size=1, max_size=2)),
        st.builds(lambda v: {"glob": v}, st.sampled_from(["feature/*", "*", "m*", "fix/?"])),
        st.builds(lambda v: {"contains": v}, st.sampled_from(["a", "feat", "/"])),
        st.builds(lambda b: {"exists": b}, st.booleans()),
    )


def _window():
    clock = st.tuples(st.integers(0, 23), st.sampled_from([0, 30]))
    return st.builds(lambda a, b: f"{a[0]:02d}:{a[1]:02d}-{b[0]:02d}:{b[1]:02d}", clock, clock)


@st.composite
def rules(draw):
    rule: dict = {"outcome": draw(st.sampled_from(["allow", "require_approval", "deny"]))}
    if draw(st.booleans()):
        rule["kind"] = draw(st.lists(st.sampled_from(KIND_PATTERNS), min_size=1, max_size=2))
    if draw(st.integers(0, 3)) == 0:
        rule["by"] = draw(st.lists(st.sampled_from(["user", "agent", "system"]), min_size=1, max_size=2, unique=True))
    if draw(st.integers(0, 4)) == 0:
        rule["agent"] = draw(st.lists(st.sampled_from(["bot", "triage-*", "*", "plan?er"]), min_size=1, max_size=2))
    match = {}
    if draw(st.booleans()):
        match["amount"] = draw(_numeric_condition())
    if draw(st.integers(0, 2)) == 0:
        match["branch"] = draw(_string_condition())
    if match:
        rule["match"] = match
    if draw(st.integers(0, 4)) == 0:
        rule["confidence"] = draw(st.one_of(
            st.builds(lambda x: {"ge": x}, st.sampled_from([0.5, 0.8, 0.9])),
            st.builds(lambda x: {"lt": x}, st.sampled_from([0.3, 0.5])),
            st.builds(lambda b: {"exists": b}, st.booleans()),
        ))
    if draw(st.integers(0, 3)) == 0:
        rule["hours"] = draw(_window())
    if draw(st.integers(0, 3)) == 0:
        rule["weekdays"] = draw(st.lists(st.sampled_from(pol.WEEKDAYS), min_size=1, max_size=4, unique=True))
    return rule


@st.composite
def requests(draw):
    payload: dict = {}
    amount = draw(st.one_of(st.none(), st.integers(0, 300), st.floats(0, 300, allow_nan=False), st.just("150"), st.just(True)))
    if amount is not None:
        payload["amount"] = amount
    branch = draw(st.one_of(st.none(), st.sampled_from(["main", "dev", "feature/x", "fix/y"]), st.just(3)))
    if branch is not None:
        payload["branch"] = branch
    by = draw(st.sampled_from(["user", "agent", "system"]))
    name = draw(st.sampled_from(AGENTS)) if by == "agent" else by
    return pol.DecisionRequest(
        kind=draw(st.sampled_from(KINDS)), payload=payload, proposer=Proposer(type=by, name=name),
        confidence=draw(st.one_of(st.none(), st.floats(0, 1, allow_nan=False))),
        scope=draw(st.sampled_from(["local", "own_files", "external"])),
        at=draw(st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 1, 1), timezones=st.just(dt.timezone.utc))),
        zone=draw(st.sampled_from(ZONES)),
    )


def _as_ops(cond) -> dict:
    if isinstance(cond, dict):
        return cond
    return {"in": cond} if isinstance(cond, list) else {"eq": cond}


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _holds(cond, present: bool, value) -> bool:
    """The documented meaning of a condition, written independently of policy.py."""
    ops = _as_ops(cond)
    if "exists" in ops and ops["exists"] != present:
        return False
    rest = {k: v for k, v in ops.items() if k != "exists"}
    if rest and not present:
        return False
    for op, want in rest.items():
        ok = {
            "eq": lambda: value == want, "ne": lambda: value != want,
            "gt": lambda: _is_number(value) and value > want, "ge": lambda: _is_number(value) and value >= want,
            "lt": lambda: _is_number(value) and value < want, "le": lambda: _is_number(value) and value <= want,
            "in": lambda: value in want, "not_in": lambda: value not in want,
            "glob": lambda: isinstance(value, str) and fnmatch.fnmatchcase(value, want),
            "contains": lambda: (isinstance(value, str) and isinstance(want, str) and want in value)
            or (isinstance(value, list) and want in value),
        }[op]()
        if not ok:
            return False
    return True


def _matches(rule: dict, req: pol.DecisionRequest) -> bool:
    if not any(fnmatch.fnmatchcase(req.kind, k) for k in rule.get("kind", ["*"])):
        return False
    if "by" in rule and req.proposer.type not in rule["by"]:
        return False
    if "agent" in rule and not (req.proposer.type == "agent" and any(fnmatch.fnmatchcase(req.proposer.name, a) for a in rule["agent"])):
        return False
    for field, cond in rule.get("match", {}).items():
        if not _holds(cond, field in req.payload, req.payload.get(field)):
            return False
    if "confidence" in rule and not _holds(rule["confidence"], req.confidence is not None, req.confidence):
        return False
    local = req.at.astimezone(ZoneInfo(req.zone))
    if "weekdays" in rule and ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][local.weekday()] not in rule["weekdays"]:
        return False
    if "hours" in rule:
        a, b = rule["hours"].split("-")
        start, end = dt.time.fromisoformat(a), dt.time.fromisoformat(b)
        t = local.time()
        inside = start <= t < end if start <= end else (t >= start or t < end)
        if not inside:
            return False
    return True


def _defaults_looked_at(req: pol.DecisionRequest) -> int:
    if req.scope == "local":
        return 1
    if req.scope == "own_files" and req.proposer.type == "user":
        return 2
    return 3


@settings(max_examples=400, deadline=None)
@given(st.lists(rules(), max_size=6), requests())
def test_decide_against_an_independent_reading_of_the_rules(rule_dicts, req):
    policy = pol.Policy(pol.PolicyFile.model_validate({"rule": rule_dicts}))
    decision = pol.decide(policy, req)
    matched = [_matches(r, req) for r in rule_dicts]

    # one path entry per user rule, in order, with the same verdict; the defaults only when none matched
    assert [c.index for c in decision.path[: len(rule_dicts)]] == list(range(1, len(rule_dicts) + 1))
    assert [c.matched for c in decision.path[: len(rule_dicts)]] == matched
    assert all((c.why == "") == c.matched for c in decision.path)
    extra = 0 if any(matched) else _defaults_looked_at(req)
    assert len(decision.path) == len(rule_dicts) + extra

    denies = [i for i, (r, m) in enumerate(zip(rule_dicts, matched)) if m and r["outcome"] == "deny"]
    firsts = [i for i, m in enumerate(matched) if m]
    if denies:
        assert decision.outcome == "deny" and decision.rule_index == denies[0] + 1
    elif firsts:
        assert decision.outcome == rule_dicts[firsts[0]]["outcome"] and decision.rule_index == firsts[0] + 1
    else:
        expected = "allow" if extra < 3 else "require_approval"
        assert decision.outcome == expected and decision.rule_index == 0
    # the implementation's own matcher agrees: a matching deny is never overridden
    if any(pol.why_not(r, req) is None and r.outcome == "deny" for r in policy.rules):
        assert decision.outcome == "deny"
    assert decision.outcome != "allow" or not denies

    # deterministic, and the same for the explanation
    again = pol.decide(policy, req)
    assert again == decision
    assert len(pol.explain_lines(decision)) == len(decision.path) + 1


@settings(max_examples=200, deadline=None)
@given(st.lists(rules(), min_size=1, max_size=6), requests(), st.randoms(use_true_random=False))
def test_a_matching_deny_wins_in_any_order(rule_dicts, req, rnd):
    policy = pol.Policy(pol.PolicyFile.model_validate({"rule": rule_dicts}))
    shuffled = list(rule_dicts)
    rnd.shuffle(shuffled)
    other = pol.Policy(pol.PolicyFile.model_validate({"rule": shuffled}))
    a, b = pol.decide(policy, req), pol.decide(other, req)
    assert (a.outcome == "deny") == (b.outcome == "deny")
    if a.outcome == "deny":
        assert a.rule_index > 0 and b.rule_index > 0


# --- 2. random sequences over the real desk, executor and store ----------------------------

POLICIES = [
    None,  # no policy.toml: the built-in defaults
    ALLOW,
    REQUIRE + '\n[settings]\nundo_grace = "1m"\n\n[expiry]\n"test.*" = "2h"\n',
    '[[rule]]\nkind = "test.*"\noutcome = "deny"\n',
    # an agent's big numbers are denied, the person's own are allowed, the rest waits
    '[[rule]]\nname = "big"\nkind = "test.*"\nby = "agent"\nmatch = { n = { gt = 150 } }\noutcome = "deny"\n\n'
    '[[rule]]\nname = "mine"\nby = "user"\nkind = "test.*"\noutcome = "allow"\n\n'
    '[[rule]]\nkind = "test.*"\nmatch = { n = { ge = 100 } }\noutcome = "deny"\n',
    '[[rule]]\noutcome = "allow"\nhours = "25:00-01:00"\n',  # invalid: fail closed, everything waits
]

propose_op = st.tuples(
    st.just("propose"), st.sampled_from(["test.do", "test.local"]), st.integers(0, len(POLICIES) - 1),
    st.sampled_from(["user", "agent"]), st.integers(0, 200),
    st.sampled_from([("none", 0), ("none", 0), ("transient", 1), ("transient", 9), ("permanent", 1), ("bug", 1)]),
)
# An index picks among the test actions (below 100) or among all, notifications included (100 and up).
target = st.integers(0, 119)
ops = st.one_of(
    propose_op, propose_op, propose_op,
    st.tuples(st.just("approve"), target, st.one_of(st.none(), st.none(), st.integers(0, 200))),
    st.tuples(st.just("approve"), target, st.none()),
    st.tuples(st.just("deny"), target),
    st.tuples(st.just("snooze"), target, st.sampled_from([60, 3600, 3 * 3600])),
    st.tuples(st.just("undo"), target),
    st.tuples(st.just("pause"), st.sampled_from([None, 600, 3 * 3600])),
    st.tuples(st.just("resume")),
    st.tuples(st.just("advance"), st.sampled_from([1, 10, 60, 600, 3600, 3 * 3600, 26 * 3600])),
    st.tuples(st.just("advance"), st.sampled_from([10, 60])),  # the undo grace of the policies above
    st.tuples(st.just("sweep")),
    st.tuples(st.just("execute")),
    st.tuples(st.just("tick")),
    st.tuples(st.just("tick")),
    st.tuples(st.just("crash")),
    st.tuples(st.just("restart")),
)


class Checker:
    """Invariants, checked inside every execute() call and after every step."""

    def __init__(self, h: Harness):
        self.h = h
        self.violations: list[str] = []

    async def observe(self, ctx) -> None:
        """Called by the fake connectors as execute() starts: the moment an effect could happen."""
        repo = self.h.repo
        if await repo.pause_state() is not None:
            self.violations.append(f"execute() of {ctx.action_id} while paused")
        action = await repo.get(ctx.action_id)
        if action is None or action.status != "executing":
            self.violations.append(f"execute() of {ctx.action_id} in status {action and action.status}")
            return
        if action.decision.outcome == "deny":
            self.violations.append(f"execute() of {action.id}, denied by policy")
        if action.decision.outcome == "require_approval":
            approvals = await repo.approvals(action.id)
            if not approvals or approvals[-1].decision != "approved":
                self.violations.append(f"execute() of {action.id} needing approval; approvals: {[a.decision for a in approvals]}")

    async def check(self) -> None:
        assert not self.violations, self.violations
        h = self.h
        actions = await h.repo.list(limit=10_000)
        rows = await h.store.fetchall("SELECT subject, verb, trace_id, details FROM audit_log ORDER BY seq")
        lines: dict[str, list[tuple[str, str, dict]]] = {}
        for subject, verb, trace, details in rows:
            if verb.startswith("action.") and verb.removeprefix("action.") in TRANSITIONS or verb == "action.proposed":
                lines.setdefault(subject, []).append((verb.removeprefix("action."), trace, json.loads(details)))
        calls: dict[str, int] = {}
        for spec in h.specs.values():
            for action_id in spec.calls:
                calls[action_id] = calls.get(action_id, 0) + 1
            assert all(n == 1 for n in spec.effects.values()), f"an effect was performed twice: {spec.effects}"
        for action in actions:
            # every status change has its audit line, with the action's trace, in a legal order
            story = lines.get(action.id, [])
            assert story and story[0][0] == "proposed", (action.id, story)
            previous = "proposed"
            for status, trace, details in story[1:]:
                assert trace == action.trace_id, (action.id, status)
                assert details["from"] == previous, (action.id, previous, status, details)
                check_transition(previous, status)
                previous = status
            assert previous == action.status, (action.id, [s for s, _, _ in story], action.status)
            # each attempt is one execute() call
            assert action.attempts == calls.get(action.id, 0), (action.id, action.attempts, calls.get(action.id))
            if action.decision.outcome == "deny":
                assert action.status == "denied" and action.attempts == 0
            if action.attempts and action.decision.outcome == "require_approval":
                approvals = await h.repo.approvals(action.id)
                assert approvals and approvals[-1].decision == "approved", (action.id, [a.decision for a in approvals])
            if action.status == "succeeded":
                receipts = await h.repo.receipts(action.id)
                assert receipts and receipts[-1].attempt == action.attempts and action.receipt is not None
            if action.status == "executing":
                assert h.crashed, f"{action.id} left executing without a crash"
        # nothing known to the store is missing its action row
        ids = {a.id for a in actions}
        assert set(calls) <= ids


async def _scenario(steps, directory) -> None:
    h = Harness(directory)
    h.crashed = False
    await h.open()
    checker = Checker(h)
    for spec in h.specs.values():
        spec.observer = checker.observe

    async def pick(index):
        actions = await h.repo.list(limit=10_000)
        if index < 100:
            actions = [a for a in actions if a.kind.startswith("test.")]
        return actions[index % len(actions)] if actions else None

    try:
        for step in steps:
            op = step[0]
            try:
                if op == "propose":
                    _, kind, policy, by, n, (fail, times) = step
                    h.write_policy(POLICIES[policy])
                    proposer = Proposer(type=by, name="bot" if by == "agent" else "user")
                    await h.desk.propose(kind, {"n": n, "fail": fail, "fail_times": times}, proposer=proposer,
                                         confidence=0.9 if by == "agent" else None)
                elif op == "approve":
                    action = await pick(step[1])
                    if action is not None:
                        edit = None
                        if step[2] is not None and action.kind.startswith("test."):
                            edit = {**action.payload, "n": step[2]}
                        await h.desk.approve(action.id, payload=edit)
                elif op in ("deny", "undo"):
                    action = await pick(step[1])
                    if action is not None:
                        await getattr(h.desk, op)(action.id)
                elif op == "snooze":
                    action = await pick(step[1])
                    if action is not None:
                        await h.desk.snooze(action.id, h.now() + dt.timedelta(seconds=step[2]))
                elif op == "pause":
                    await h.desk.pause(None if step[1] is None else h.now() + dt.timedelta(seconds=step[1]))
                elif op == "resume":
                    await h.desk.resume()
                elif op == "advance":
                    h.advance(step[1])
                elif op == "sweep":
                    await h.desk.sweep()
                elif op == "execute":
                    await h.run_due()
                elif op == "tick":
                    await h.tick()
                elif op == "crash":
                    def die(name):
                        if name == "executor.effect_done":
                            raise Crash(name)

                    with mock.patch.object(faults, "point", die):
                        try:
                            await h.run_due()
                        except Crash:
                            h.crashed = True
                elif op == "restart":
                    await h.restart()
                    h.crashed = False
            except ActionError:
                pass  # refused, with a message: deciding on an action that is not open, undo too late, ...
            await checker.check()
        # in the end, with time passing and no pause, everything approved runs or fails
        await h.desk.resume()
        if h.crashed:
            await h.restart()
            h.crashed = False
        for _ in range(8):
            h.advance(3600)
            await h.tick()
            await checker.check()
        leftover = await h.repo.list(("approved", "executing"), limit=100)
        assert leftover == [], [(a.id, a.status, a.next_attempt_at) for a in leftover]
    finally:
        await h.close()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=8, max_size=40))
# The paths that matter most, always tried (first test action: index 0; its notification: 100 + 1).
@example([("propose", "test.do", 0, "agent", 5, ("none", 0)), ("approve", 0, None), ("tick",), ("advance", 10), ("execute",),
          ("propose", "test.do", 4, "user", 5, ("transient", 1)), ("tick",), ("advance", 600), ("tick",)])
@example([("propose", "test.do", 0, "user", 5, ("transient", 1)), ("approve", 0, None), ("advance", 10), ("execute",),
          ("undo", 0), ("approve", 0, None), ("advance", 600), ("tick",)])
@example([("propose", "test.do", 4, "agent", 5, ("none", 0)), ("approve", 0, 7), ("undo", 0), ("approve", 0, None),
          ("propose", "test.do", 4, "agent", 6, ("none", 0)), ("approve", 1, 180),
          ("pause", 600), ("advance", 10), ("execute",), ("tick",), ("advance", 600), ("tick",)])
@example([("propose", "test.local", 0, "agent", 5, ("none", 0)), ("pause", None), ("propose", "test.do", 1, "user", 5, ("none", 0)),
          ("advance", 26 * 3600), ("execute",), ("resume",), ("tick",)])
@example([("propose", "test.do", 1, "user", 5, ("none", 0)), ("propose", "test.do", 2, "agent", 5, ("none", 0)),
          ("crash",), ("execute",), ("approve", 1, None), ("advance", 60), ("crash",), ("restart",), ("tick",)])
@example([("propose", "test.do", 5, "agent", 5, ("none", 0)), ("approve", 101, None), ("snooze", 0, 60), ("snooze", 0, 3600),
          ("advance", 3600), ("sweep",), ("approve", 0, None), ("deny", 0), ("advance", 60), ("tick",)])
def test_random_sequences_keep_the_invariants(steps):
    directory = tempfile.mkdtemp(prefix="ox-prop-")
    try:
        asyncio.run(_scenario(steps, directory))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# --- 3. the database trigger ---------------------------------------------------------------


@pytest.fixture
async def h(tmp_path):
    harness = await Harness(tmp_path).open()
    yield harness
    await harness.close()


async def _force_executing(h, action_id):
    await h.store.db.execute("UPDATE actions SET status = 'executing' WHERE id = ?", (action_id,))


async def test_the_database_refuses_executing_without_an_approval(h):
    a, _ = await h.desk.propose("test.do", {"n": 1})
    assert a.status == "awaiting_approval" and await h.repo.approvals(a.id) == []
    with pytest.raises(sqlite3.IntegrityError, match="action needs an approval"):
        await _force_executing(h, a.id)
    assert (await h.get(a.id)).status == "awaiting_approval"


async def test_the_database_refuses_executing_after_a_denial_or_an_undo(h):
    denied, _ = await h.desk.propose("test.do", {"n": 1})
    await h.desk.deny(denied.id)
    undone, _ = await h.desk.propose("test.do", {"n": 2})
    await h.desk.approve(undone.id)
    await h.desk.undo(undone.id)
    snoozed, _ = await h.desk.propose("test.do", {"n": 3})
    await h.desk.snooze(snoozed.id, h.now() + dt.timedelta(hours=1))
    for action in (denied, undone, snoozed):
        with pytest.raises(sqlite3.IntegrityError, match="action needs an approval"):
            await _force_executing(h, action.id)


async def test_the_database_refuses_executing_a_policy_denial_even_with_an_approval_row(h):
    h.write_policy('[[rule]]\nkind = "test.*"\noutcome = "deny"\n')
    a, _ = await h.desk.propose("test.do", {"n": 1})
    await h.store.db.execute(
        "INSERT INTO action_approvals (action_id, decision, actor, via, at) VALUES (?, 'approved', 'mallory', 'sql', '2026-01-01')",
        (a.id,),
    )
    with pytest.raises(sqlite3.IntegrityError, match="action needs an approval"):
        await _force_executing(h, a.id)


async def test_the_database_lets_an_approved_or_allowed_action_execute(h):
    a, _ = await h.desk.propose("test.do", {"n": 1})
    await h.desk.approve(a.id)
    await _force_executing(h, a.id)
    h.write_policy(ALLOW)
    b, _ = await h.desk.propose("test.do", {"n": 2})
    await _force_executing(h, b.id)
    rows = await h.store.fetchall("SELECT status FROM actions WHERE id IN (?, ?)", (a.id, b.id))
    assert rows == [("executing",), ("executing",)]


async def test_approvals_and_receipts_are_append_only(h):
    a, _ = await h.desk.propose("test.do", {"n": 1})
    await h.desk.approve(a.id)
    with pytest.raises(sqlite3.IntegrityError, match="action_approvals is append-only"):
        await h.store.db.execute("UPDATE action_approvals SET decision = 'denied' WHERE action_id = ?", (a.id,))
    with pytest.raises(sqlite3.IntegrityError, match="action_approvals is append-only"):
        await h.store.db.execute("DELETE FROM action_approvals WHERE action_id = ?", (a.id,))
