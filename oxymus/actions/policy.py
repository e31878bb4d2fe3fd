"""The policy plane: explicit, ordered rules that decide allow, require_approval or deny.

`policy.toml` (in the config dir) lists rules; each matches on the action's kind
(globs), who proposed it, payload fields, the agent's confidence and time windows.
The first rule that matches decides, except that a matching `deny` anywhere wins.
After the person's rules come three built-in defaults, shown in every explanation:
local reversible effects are allowed, the person's own edits to their own files are
allowed, everything else needs approval.

`decide()` is the only implementation: the daemon calls it for every proposal and
`oxymus policy explain` calls the very same function for a dry run.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from oxymus.actions.effects import Scope
from oxymus.actions.model import Decision, EffectDecision, Outcome, Proposer, ProposerType, RuleCheck
from oxymus.profile.config import parse_model, read_text
from oxymus.sources.contract import utc_iso
from oxymus.time.timeofday import in_window, parse_window
from oxymus.time.when import WEEKDAYS, Duration, Weekdays, format_duration, parse_duration

DEFAULT_EXPIRY = {"local": 3600.0, "own_files": 86400.0, "external": 86400.0}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Condition(_Strict):
    """A test on one value. Several operators in one condition must all hold."""

    eq: Any = None
    ne: Any = None
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    in_: list[Any] | None = Field(default=None, alias="in")
    not_in: list[Any] | None = None
    glob: str | None = None
    contains: Any = None
    exists: bool | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> "Condition":
        if not self.model_fields_set:
            raise ValueError("a condition needs at least one of eq, ne, gt, ge, lt, le, in, not_in, glob, contains, exists")
        return self

    def test(self, present: bool, value: Any, name: str) -> str | None:
        """None if the condition holds, else why not (for the explanation)."""
        shown = f"{name} is {value!r}" if present else f"{name} is missing"
        if self.exists is not None and present != self.exists:
            return shown
        checks = self.model_fields_set - {"exists"}
        if checks and not present:
            return shown
        for op in sorted(checks):
            want = getattr(self, op)
            if not _holds(op, value, want):
                if op in ("gt", "ge", "lt", "le") and (isinstance(value, bool) or not isinstance(value, (int, float))):
                    return f"{shown}, not a number to compare ({_OP_TEXT[op]} {want!r})"
                return f"{shown}, not {_OP_TEXT[op]} {want!r}"
        return None


_OP_TEXT = {"eq": "==", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<=", "in_": "in", "not_in": "not in",
            "glob": "matching", "contains": "containing"}


def _holds(op: str, value: Any, want: Any) -> bool:
    if op in ("gt", "ge", "lt", "le"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return {"gt": value > want, "ge": value >= want, "lt": value < want, "le": value <= want}[op]
    if op == "eq":
        return value == want
    if op == "ne":
        return value != want
    if op == "in_":
        return value in want
    if op == "not_in":
        return value not in want
    if op == "glob":
        return isinstance(value, str) and fnmatch.fnmatchcase(value, want)
    if op == "contains":
        if isinstance(value, str):
            return isinstance(want, str) and want in value
        return isinstance(value, list) and want in value
    raise AssertionError(op)


def _as_condition(value: Any) -> Any:
    """Shorthand: a scalar means ==, a list means `in`."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return {"in": value}
    return {"eq": value}


class Rule(_Strict):
    name: str = Field(default="", max_length=120, description="shown in explanations; default 'rule N'")
    kind: list[str] = Field(default_factory=lambda: ["*"], description="action kinds, globs allowed: 'git.*'")
    by: list[ProposerType] | None = Field(default=None, description="who proposed it: user, agent, system")
    agent: list[str] | None = Field(default=None, description="the proposing agent's name, globs allowed")
    match: dict[str, Condition] = Field(default_factory=dict, description="payload fields (dotted paths) and their conditions")
    confidence: Condition | None = Field(default=None, description="the agent's confidence, 0..1 (missing for the person's own)")
    hours: str | None = Field(default=None, description="local time window HH:MM-HH:MM; may wrap midnight: 22:00-07:00")
    weekdays: Weekdays | None = Field(default=None, description="mon..sun")
    outcome: Outcome
    reason: str = Field(default="", max_length=500)

    @field_validator("kind", "agent", "by", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("match", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {k: _as_condition(v) for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("confidence", mode="before")
    @classmethod
    def _confidence_shorthand(cls, value: Any) -> Any:
        return _as_condition(value)

    @field_validator("hours")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        if value is not None:
            parse_window(value, wraps=True)
        return value



class Settings(_Strict):
    approval_expiry: Duration = Field(default="24h", description="how long an approval request waits before it expires and does not run")
    undo_grace: Duration = Field(default="10s", description="after a person's decision, how long `undo` can take it back before execution")


class PolicyFile(_Strict):
    settings: Settings = Field(default_factory=Settings)
    expiry: dict[str, Duration] = Field(default_factory=dict, description="approval expiry per kind glob, e.g. 'git.push' = '4h'")
    rule: list[Rule] = Field(default_factory=list)


class Policy:
    """A validated policy file (or the defaults when there is none) and its hash."""

    def __init__(self, data: PolicyFile, path: str | None = None, sha256: str | None = None):
        self.data = data
        self.path = path
        self.sha256 = sha256

    @property
    def rules(self) -> list[Rule]:
        return self.data.rule

    def expiry_for(self, kind: str, scope: Scope, default: float | None = None) -> float:
        """[expiry] for the kind, else [settings] approval_expiry if set, else the kind's own default, else the scope's."""
        for pattern, text in self.data.expiry.items():
            if fnmatch.fnmatchcase(kind, pattern):
                return parse_duration(text)
        if "approval_expiry" in self.data.settings.model_fields_set:
            return parse_duration(self.data.settings.approval_expiry)
        return default if default is not None else DEFAULT_EXPIRY[scope]

    @property
    def undo_grace(self) -> float:
        return parse_duration(self.data.settings.undo_grace)


def load(path: str) -> Policy:
    """policy.toml at `path` (the defaults if it does not exist); ConfigError naming file, line and key."""
    text = read_text(path)
    if text is None:
        return Policy(PolicyFile(), path, None)
    data = parse_model(text, path, PolicyFile)
    return Policy(data, path, hashlib.sha256(text.encode()).hexdigest())


def parse(text: str, path: str = "policy.toml") -> Policy:
    return Policy(parse_model(text, path, PolicyFile), path, hashlib.sha256(text.encode()).hexdigest())


# The built-in defaults, after the person's rules. Index 0 marks them in explanations.
BUILTIN: list[tuple[str, Outcome, Any]] = [
    ("default: local and reversible (a notification)", "allow", lambda scope, proposer: scope == "local"),
    ("default: your own edit to your own files", "allow", lambda scope, proposer: scope == "own_files" and proposer.type == "user"),
    ("default: side effects need your approval", "require_approval", lambda scope, proposer: True),
]


class DecisionRequest(BaseModel):
    """Everything a decision may depend on, so the same inputs always give the same answer."""

    model_config = ConfigDict(frozen=True)

    kind: str
    payload: dict[str, Any]
    proposer: Proposer = Proposer()
    confidence: float | None = None
    scope: Scope = "external"
    at: dt.datetime = Field(description="aware; time windows are read in `zone`")
    zone: str = "UTC"
    expiry: float | None = Field(default=None, description="the kind's own default request expiry, in seconds")


def field_value(payload: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    """(present, value) at a dotted path, list indices allowed: 'recipients.0'."""
    node: Any = payload
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def why_not(rule: Rule, req: DecisionRequest) -> str | None:
    """None if `rule` matches the request, else the first condition that failed, in words."""
    if not any(fnmatch.fnmatchcase(req.kind, k) for k in rule.kind):
        return f"kind {req.kind} is not {' or '.join(rule.kind)}"
    if rule.by is not None and req.proposer.type not in rule.by:
        return f"proposed by {req.proposer.type}, not {' or '.join(rule.by)}"
    if rule.agent is not None and not (req.proposer.type == "agent" and any(fnmatch.fnmatchcase(req.proposer.name, a) for a in rule.agent)):
        return f"proposer {req.proposer.label()} is not agent {' or '.join(rule.agent)}"
    for dotted, cond in rule.match.items():
        present, value = field_value(req.payload, dotted)
        failed = cond.test(present, value, f"payload.{dotted}")
        if failed:
            return failed
    if rule.confidence is not None:
        failed = rule.confidence.test(req.confidence is not None, req.confidence, "confidence")
        if failed:
            return failed
    local = req.at.astimezone(ZoneInfo(req.zone))
    if rule.weekdays is not None and WEEKDAYS[local.weekday()] not in rule.weekdays:
        return f"it is {WEEKDAYS[local.weekday()]}, not {', '.join(rule.weekdays)}"
    if rule.hours is not None and not in_window(local.time(), parse_window(rule.hours, wraps=True)):
        return f"it is {local:%H:%M}, outside {rule.hours}"
    return None


def decide(policy: Policy, req: DecisionRequest) -> Decision:
    """The decision for one request, with every rule looked at on the way."""
    path: list[RuleCheck] = []
    first: RuleCheck | None = None
    deny: RuleCheck | None = None
    reasons: dict[int, str] = {}
    for index, rule in enumerate(policy.rules, start=1):
        failed = why_not(rule, req)
        check = RuleCheck(index=index, name=rule.name or f"rule {index}", outcome=rule.outcome, matched=failed is None, why=failed or "")
        path.append(check)
        reasons[index] = rule.reason
        if check.matched:
            if first is None:
                first = check
            if rule.outcome == "deny" and deny is None:
                deny = check
    chosen = deny or first
    if chosen is None:
        for name, outcome, applies in BUILTIN:
            ok = applies(req.scope, req.proposer)
            check = RuleCheck(index=0, name=name, outcome=outcome, matched=ok, why="" if ok else f"the action's scope is {req.scope}")
            path.append(check)
            if ok:
                chosen = check
                break
    assert chosen is not None  # the last default matches everything
    expires = policy.expiry_for(req.kind, req.scope, req.expiry)
    return Decision(
        outcome=chosen.outcome,
        rule=chosen.name,
        rule_index=chosen.index,
        reason=reasons.get(chosen.index, "") if chosen.index else "",
        path=path,
        policy_sha256=policy.sha256,
        decided_at=utc_iso(req.at),
        expires_in_s=expires,
    )


STRICTNESS: dict[str, int] = {"allow": 0, "require_approval": 1, "deny": 2}


def effect_requests(spec: Any, specs: dict[str, Any], payload: BaseModel, *, proposer: Proposer, confidence: float | None,
                    at: dt.datetime, zone: str, label: str = "") -> list[tuple[str, DecisionRequest]]:
    """One decision request per effect `payload` performs (`spec.performs()`: a commit that
    pushes is a commit and a push), each with its own kind's scope and expiry, so a rule
    about an effect judges it wherever it travels."""
    from pydantic import ValidationError

    out = []
    for kind, effect in spec.performs(payload):
        own = spec if kind == spec.kind else specs.get(kind)
        scope, expiry = spec.scope_of(payload), spec.expiry
        if own is not None:
            try:
                scope, expiry = own.scope_of(own.parse(effect)), own.expiry
            except ValidationError:
                pass  # judged with the carrying action's scope; the rules still see its kind and fields
        out.append((f"{label}{kind}", DecisionRequest(kind=kind, payload=effect, proposer=proposer, confidence=confidence,
                                                      scope=scope, at=at, zone=zone, expiry=expiry)))
    return out


def decide_all(policy: Policy, requests: list[tuple[str, DecisionRequest]]) -> Decision:
    """The decision for an action that performs several effects, or a flow of several steps.

    Each (label, request) is decided alone by `decide()`; the strictest outcome wins (the
    first of equals), so an effect can never pass because it travels with others. The
    path holds every effect's checks, each marked with its label; a request's expiry is
    the shortest of those that ask for approval.
    """
    if not requests:
        raise ValueError("nothing to decide")
    decisions = [decide(policy, req) for _, req in requests]
    if len(decisions) == 1:
        return decisions[0]
    chosen = max(decisions, key=lambda d: STRICTNESS[d.outcome])  # max() keeps the first of equals
    path = [c.model_copy(update={"effect": label}) for (label, _), d in zip(requests, decisions) for c in d.path]
    asking = [d.expires_in_s for d in decisions if d.outcome == "require_approval" and d.expires_in_s]
    return chosen.model_copy(update={
        "path": path,
        "expires_in_s": min(asking) if asking else chosen.expires_in_s,
        "effects": [EffectDecision(effect=label, outcome=d.outcome, rule=d.rule) for (label, _), d in zip(requests, decisions)],
    })


def lint(policy: Policy, known_kinds: list[str]) -> list[str]:
    """Rules that are valid but probably not what was meant: kind globs matching no known kind, dead rules."""
    out = []
    for index, rule in enumerate(policy.rules, start=1):
        label = f"rule {index} ({rule.name})" if rule.name else f"rule {index}"
        for pattern in rule.kind:
            if not any(fnmatch.fnmatchcase(k, pattern) for k in known_kinds):
                out.append(f"{label}: kind {pattern!r} matches no action kind this installation knows ({', '.join(known_kinds)})")
        if rule.agent is not None and rule.by is not None and "agent" not in rule.by:
            out.append(f"{label}: names an agent but `by` excludes agents, so it never matches")
    for pattern in policy.data.expiry:
        if not any(fnmatch.fnmatchcase(k, pattern) for k in known_kinds):
            out.append(f"expiry {pattern!r} matches no action kind this installation knows")
    return out


def explain_lines(decision: Decision) -> list[str]:
    """The decision path in words, one line per rule looked at."""
    lines = []
    effect = None
    for check in decision.path:
        if check.effect and check.effect != effect:
            effect = check.effect
            lines.append(f"  for {effect}:")
        where = f"#{check.index}" if check.index else "built-in"
        mark = "matched" if check.matched else "skipped"
        indent = "    " if check.effect else "  "
        lines.append(f"{indent}{mark:8} {where:9} {check.name} -> {check.outcome}" + (f"  ({check.why})" if check.why else ""))
    if decision.effects:
        lines.append("  each effect alone: " + "; ".join(f"{e.effect} -> {e.outcome}" for e in decision.effects)
                     + " (the strictest decides)")
    lines.append(
        f"  decision: {decision.outcome} by {decision.rule!r}"
        + next((f" (for {e.effect})" for e in decision.effects if e.outcome == decision.outcome and e.rule == decision.rule), "")
        + (f": {decision.reason}" if decision.reason else "")
        + (f"; a request expires after {format_duration(decision.expires_in_s)}" if decision.outcome == "require_approval" and decision.expires_in_s else "")
    )
    return lines


EXAMPLE = '''\
# Oxymus policy: which actions run by themselves, which wait for your yes, which never run.
# Rules are checked in order; the first that matches decides, but a matching deny
# anywhere wins. After your rules come the built-in defaults: local reversible
# effects (notifications) are allowed, your own edits to your own files are
# allowed, everything else needs your approval.
# Check this file with `oxymus policy check`; try a decision with
# `oxymus policy explain KIND --payload JSON`.

[settings]
approval_expiry = "24h"   # an approval request not decided by then expires and does not run
undo_grace = "10s"        # after you approve or deny, `u` / `oxymus undo` can take it back

[expiry]
"notify.*" = "1h"

# Rules judge what an action does: a commit that also pushes, or a flow with a push
# step, is judged as a push too, and the strictest outcome wins.
[[rule]]
name = "an agent's push to main always waits for me"
kind = "git.push"
by = "agent"
match = { branch = "main" }
outcome = "require_approval"
reason = "the publisher may propose it; it never runs without your yes (use deny to forbid it outright)"

[[rule]]
name = "big payments always need me"
kind = "bills.mark_paid"
match = { amount = { gt = 200 } }
outcome = "require_approval"

[[rule]]
name = "quiet hours"
kind = "notify.*"
by = "agent"
hours = "22:00-07:00"
match = { urgency = { ne = "critical" } }
outcome = "deny"
reason = "no notifications at night unless critical"
'''
