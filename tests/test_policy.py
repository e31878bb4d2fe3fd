"""policy.toml: parsing errors that point at the line and key, and the semantics of `decide()`."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from zoneinfo import ZoneInfo

import pytest

from oxymus.actions import policy as pol
from oxymus.actions.model import Proposer
from oxymus.profile.config import ConfigError

UTC = dt.timezone.utc
NOON = dt.datetime(2026, 6, 3, 12, 0, tzinfo=UTC)  # a Wednesday


def req(kind="git.push", payload=None, *, by="user", name=None, confidence=None, scope="external", at=NOON, zone="UTC"):
    proposer = Proposer(type=by, name=name or by)
    return pol.DecisionRequest(kind=kind, payload=payload or {}, proposer=proposer, confidence=confidence, scope=scope, at=at, zone=zone)


def decide(text: str, request: pol.DecisionRequest):
    return pol.decide(pol.parse(text), request)


def parse_error(text: str, path: str = "/cfg/policy.toml") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        pol.parse(text, path)
    return info.value


# --- parsing errors: file, line and dotted key -----------------------------------------


def test_unknown_key_in_a_rule_names_file_line_and_key():
    err = parse_error('[[rule]]\nkind = "git.push"\noutcome = "deny"\n\n[[rule]]\nkind = "x"\nbogus = 1\noutcome = "allow"\n')
    assert str(err).startswith("/cfg/policy.toml:7: rule[1].bogus: unknown key")
    assert (err.line, err.key) == (7, "rule[1].bogus")


def test_unknown_operator_in_a_condition_names_the_operator():
    err = parse_error('[[rule]]\noutcome = "deny"\nmatch = { amount = { bigger = 3 } }\n')
    assert err.key == "rule[0].match.amount.bigger" and "unknown key" in err.message and err.line == 3


def test_bad_outcome_is_named_with_the_allowed_ones():
    err = parse_error('[[rule]]\nkind = "x"\noutcome = "maybe"\n')
    assert (err.line, err.key) == (3, "rule[0].outcome")
    assert "'allow', 'require_approval' or 'deny'" in err.message and "maybe" in err.message


@pytest.mark.parametrize("hours", ["25:00-07:00", "22:00", "22:60-07:00", "10pm-7am", "22:00-7"])
def test_bad_hours_window(hours):
    err = parse_error(f'[[rule]]\noutcome = "deny"\nhours = "{hours}"\n')
    assert (err.line, err.key) == (3, "rule[0].hours")
    assert "not a time window" in err.message and "HH:MM-HH:MM" in err.message


def test_bad_weekday_is_named():
    err = parse_error('[[rule]]\noutcome = "deny"\nweekdays = ["mon", "funday"]\n')
    assert (err.line, err.key) == (3, "rule[0].weekdays")
    assert "'funday'" in err.message and "mon, tue" in err.message


def test_weekday_names_are_accepted_long_or_short_in_any_case():
    p = pol.parse('[[rule]]\noutcome = "deny"\nweekdays = ["Monday", "TUE", "sun"]\n')
    assert p.rules[0].weekdays == ["mon", "tue", "sun"]


def test_bad_duration_in_expiry_names_the_kind():
    err = parse_error('[settings]\nundo_grace = "5s"\n\n[expiry]\nnotify = "1h"\ncalendar = "soon"\n')
    assert str(err) == "/cfg/policy.toml:6: expiry.calendar: not a duration: 'soon' (use e.g. 10s, 30m, 2h, 1h30m, 1d)"


def test_bad_duration_for_a_quoted_kind_glob_names_the_glob():
    err = parse_error('[expiry]\n"git.*" = "soon"\n')
    assert err.key == "expiry.git.*" and "not a duration: 'soon'" in err.message
    # The line is at least the table's (config.locate splits quoted keys on their dots).
    assert err.line in (1, 2)


@pytest.mark.parametrize("key", ["approval_expiry", "undo_grace"])
def test_bad_duration_in_settings(key):
    err = parse_error(f'[settings]\n{key} = "ten minutes"\n')
    assert (err.line, err.key) == (2, f"settings.{key}")
    assert "not a duration: 'ten minutes'" in err.message


def test_unknown_setting_is_refused():
    err = parse_error('[settings]\nundo = "10s"\n')
    assert (err.line, err.key, err.message) == (2, "settings.undo", "unknown key")


@pytest.mark.parametrize("where", ["match = { amount = {} }", "confidence = {}"])
def test_an_empty_condition_is_refused(where):
    err = parse_error(f'[[rule]]\noutcome = "deny"\n{where}\n')
    assert err.line == 3 and err.key.startswith("rule[0].")
    assert "a condition needs at least one of eq, ne" in err.message


def test_a_wrong_operand_type_is_refused_at_its_key():
    err = parse_error('[[rule]]\noutcome = "deny"\n\n[[rule]]\noutcome = "allow"\nmatch = { amount = { gt = "big" } }\n')
    assert (err.line, err.key) == (6, "rule[1].match.amount.gt")


def test_toml_syntax_error_names_the_line():
    err = parse_error('[[rule]]\nkind = "x"\noutcome = "deny\n')
    assert err.line == 3 and err.key is None
    assert str(err).startswith("/cfg/policy.toml:3: TOML syntax error:")


def test_non_utf8_file_names_the_line(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_bytes(b'[[rule]]\nname = "caf\xe9"\noutcome = "deny"\n')
    with pytest.raises(ConfigError) as info:
        pol.load(str(path))
    assert str(info.value).startswith(f"{path}:2: not valid UTF-8")


def test_missing_file_gives_the_defaults(tmp_path):
    p = pol.load(str(tmp_path / "policy.toml"))
    assert p.rules == [] and p.sha256 is None
    assert pol.decide(p, req(scope="local")).outcome == "allow"


def test_load_hashes_the_file(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(pol.EXAMPLE)
    p = pol.load(str(path))
    assert p.sha256 == hashlib.sha256(pol.EXAMPLE.encode()).hexdigest()
    assert pol.decide(p, req()).policy_sha256 == p.sha256


# --- EXAMPLE and lint -------------------------------------------------------------------


def test_example_parses_and_lints_clean_against_the_kinds_it_names():
    p = pol.parse(pol.EXAMPLE)
    assert len(p.rules) >= 3
    kinds = ["git.push", "git.commit", "bills.mark_paid", "notify.send"]
    assert pol.lint(p, kinds) == []
    assert p.undo_grace == 10
    assert p.expiry_for("notify.send", "local") == 3600


def test_lint_flags_a_kind_glob_that_matches_nothing():
    p = pol.parse(pol.EXAMPLE)
    problems = pol.lint(p, ["git.push", "notify.send"])
    assert len(problems) == 1
    assert "'bills.mark_paid' matches no action kind" in problems[0] and "git.push, notify.send" in problems[0]
    assert problems[0].startswith("rule 2 (big payments always need me)")


def test_lint_flags_a_typo_glob_an_expiry_glob_and_a_dead_agent_rule():
    p = pol.parse(
        '[expiry]\n"calender.*" = "1h"\n\n'
        '[[rule]]\nkind = "gti.*"\noutcome = "deny"\n\n'
        '[[rule]]\nname = "dead"\nby = "user"\nagent = "bot"\noutcome = "allow"\n'
    )
    problems = pol.lint(p, ["git.push", "calendar.create_event"])
    assert any(s.startswith("rule 1: kind 'gti.*' matches no action kind") for s in problems)
    assert any("rule 2 (dead): names an agent but `by` excludes agents" in s for s in problems)
    assert any("expiry 'calender.*' matches no action kind" in s for s in problems)


# --- decide(): order, deny wins, the defaults -------------------------------------------


def test_first_matching_rule_decides_and_names_itself():
    d = decide('[[rule]]\nname = "a"\nkind = "git.*"\noutcome = "allow"\n\n[[rule]]\nname = "b"\noutcome = "require_approval"\n',
               req("git.push"))
    assert (d.outcome, d.rule, d.rule_index) == ("allow", "a", 1)
    assert [c.matched for c in d.path] == [True, True]  # every user rule is looked at (a later deny would win)


def test_a_later_matching_deny_beats_an_earlier_allow():
    text = ('[[rule]]\nname = "ok"\nkind = "git.*"\noutcome = "allow"\n\n'
            '[[rule]]\nname = "never main"\nkind = "git.push"\nmatch = { branch = "main" }\noutcome = "deny"\nreason = "protected"\n')
    d = decide(text, req("git.push", {"branch": "main"}))
    assert (d.outcome, d.rule, d.rule_index, d.reason) == ("deny", "never main", 2, "protected")
    d = decide(text, req("git.push", {"branch": "dev"}))
    assert (d.outcome, d.rule) == ("allow", "ok")


def test_unnamed_rules_are_numbered():
    d = decide('[[rule]]\nkind = "x"\noutcome = "allow"\n\n[[rule]]\noutcome = "deny"\n', req("y"))
    assert d.rule == "rule 2" and d.path[0].name == "rule 1"


@pytest.mark.parametrize("scope, by, outcome, rule", [
    ("local", "user", "allow", "default: local and reversible (a notification)"),
    ("local", "agent", "allow", "default: local and reversible (a notification)"),
    ("own_files", "user", "allow", "default: your own edit to your own files"),
    ("own_files", "agent", "require_approval", "default: side effects need your approval"),
    ("own_files", "system", "require_approval", "default: side effects need your approval"),
    ("external", "user", "require_approval", "default: side effects need your approval"),
    ("external", "agent", "require_approval", "default: side effects need your approval"),
])
def test_built_in_defaults_by_scope_and_proposer(scope, by, outcome, rule):
    d = pol.decide(pol.parse(""), req(scope=scope, by=by))
    assert (d.outcome, d.rule, d.rule_index) == (outcome, rule, 0)
    assert all(c.index == 0 for c in d.path) and d.path[-1].matched
    assert all(not c.matched and c.why == f"the action's scope is {scope}" for c in d.path[:-1])


def test_defaults_are_looked_at_only_when_no_rule_matched():
    text = '[[rule]]\nkind = "git.*"\noutcome = "allow"\n'
    assert len(decide(text, req("git.push")).path) == 1
    d = decide(text, req("notify.send", scope="local"))
    assert [c.index for c in d.path] == [1, 0] and d.outcome == "allow" and d.rule_index == 0


def test_by_and_agent_globs():
    text = '[[rule]]\nby = "agent"\nagent = "triage-*"\noutcome = "deny"\n'
    assert decide(text, req(by="agent", name="triage-bot")).outcome == "deny"
    d = decide(text, req(by="agent", name="planner"))
    assert d.outcome == "require_approval" and d.path[0].why == "proposer agent:planner is not agent triage-*"
    assert decide(text, req(by="user")).path[0].why == "proposed by user, not agent"
    # `agent` alone implies an agent: the person is never "agent *"
    d = decide('[[rule]]\nagent = "*"\noutcome = "deny"\n', req(by="user"))
    assert d.outcome == "require_approval" and "is not agent *" in d.path[0].why


# --- match operators ---------------------------------------------------------------------

PAYLOAD = {
    "amount": 250, "price": 9.5, "flag": True, "branch": "feature/x", "title": "Publish the post",
    "labels": ["urgent", "home"], "to": [{"email": "a@example.org"}, {"email": "b@example.org"}],
    "meta": {"repo": "blog", "depth": {"n": 3}}, "none": None,
}


@pytest.mark.parametrize("cond, holds", [
    ("amount = 250", True), ("amount = 251", False), ("amount = { eq = 250 }", True),
    ("amount = { ne = 250 }", False), ("branch = { ne = 'main' }", True),
    ("amount = { gt = 200 }", True), ("amount = { gt = 250 }", False), ("amount = { ge = 250 }", True),
    ("amount = { lt = 250 }", False), ("amount = { le = 250 }", True), ("price = { lt = 10 }", True),
    ("amount = { gt = 200, lt = 300 }", True), ("amount = { gt = 200, lt = 240 }", False),
    ("branch = { in = ['main', 'feature/x'] }", True), ("branch = ['main', 'dev']", False), ("branch = ['feature/x']", True),
    ("branch = { not_in = ['main'] }", True), ("branch = { not_in = ['feature/x'] }", False),
    ("branch = { glob = 'feature/*' }", True), ("branch = { glob = 'fix/*' }", False), ("branch = { glob = 'FEATURE/*' }", False),
    ("title = { contains = 'post' }", True), ("title = { contains = 'Post' }", False),
    ("labels = { contains = 'urgent' }", True), ("labels = { contains = 'work' }", False),
    ("missing = { exists = false }", True), ("missing = { exists = true }", False), ("none = { exists = true }", True),
    ("amount = { exists = false }", False),
    ("'meta.repo' = 'blog'", True), ("'meta.depth.n' = { ge = 3 }", True), ("'meta.nope.n' = { exists = false }", True),
    ("'to.1.email' = { glob = 'b@*' }", True), ("'to.0.email' = { glob = 'b@*' }", False), ("'to.2.email' = { exists = false }", True),
    ("'labels.0' = 'urgent'", True), ("'labels.x' = { exists = true }", False),
    ("flag = true", True), ("flag = { gt = 0 }", False),
])
def test_match_operators(cond, holds):
    text = f'[[rule]]\nname = "r"\noutcome = "deny"\n[rule.match]\n{cond}\n'
    d = decide(text, req(payload=PAYLOAD))
    assert d.path[0].matched is holds, d.path[0].why
    assert (d.outcome == "deny") is holds


@pytest.mark.parametrize("cond", ["missing = { ne = 'x' }", "missing = { not_in = ['x'] }", "missing = 'x'"])
def test_a_missing_field_fails_every_value_test(cond):
    d = decide(f'[[rule]]\noutcome = "deny"\n[rule.match]\n{cond}\n', req(payload=PAYLOAD))
    assert not d.path[0].matched and d.path[0].why == "payload.missing is missing"


@pytest.mark.parametrize("field, cond", [("title", "gt = 3"), ("flag", "ge = 0"), ("labels", "lt = 5"), ("meta", "le = 1")])
def test_a_type_mismatch_does_not_match_and_says_why(field, cond):
    d = decide(f'[[rule]]\noutcome = "deny"\nmatch = {{ {field} = {{ {cond} }} }}\n', req(payload=PAYLOAD))
    assert d.outcome == "require_approval" and not d.path[0].matched
    assert d.path[0].why.startswith(f"payload.{field} is {PAYLOAD[field]!r}, not a number to compare")


def test_a_numeric_string_is_not_a_number():
    d = decide('[[rule]]\noutcome = "deny"\nmatch = { amount = { gt = 200 } }\n', req(payload={"amount": "300"}))
    assert d.outcome == "require_approval"
    assert d.path[0].why == "payload.amount is '300', not a number to compare (> 200.0)"


def test_glob_and_contains_on_the_wrong_type_do_not_match():
    text = '[[rule]]\noutcome = "deny"\nmatch = { amount = { glob = "2*" }, meta = { contains = "blog" } }\n'
    d = decide(text, req(payload=PAYLOAD))
    assert not d.path[0].matched and d.path[0].why == "payload.amount is 250, not matching '2*'"
    d = decide('[[rule]]\noutcome = "deny"\nmatch = { meta = { contains = "repo" } }\n', req(payload=PAYLOAD))
    assert not d.path[0].matched


def test_the_first_failing_condition_is_the_explanation():
    d = decide('[[rule]]\nkind = "git.*"\noutcome = "deny"\nmatch = { amount = { lt = 100 } }\n', req("bills.pay", PAYLOAD))
    assert d.path[0].why == "kind bills.pay is not git.*"
    d = decide('[[rule]]\nkind = ["git.*", "bills.*"]\noutcome = "deny"\nmatch = { amount = { lt = 100 } }\n', req("bills.pay", PAYLOAD))
    assert d.path[0].why == "payload.amount is 250, not < 100.0"


# --- confidence --------------------------------------------------------------------------


@pytest.mark.parametrize("confidence, matched", [(0.95, True), (0.9, True), (0.5, False), (None, False)])
def test_confidence_conditions(confidence, matched):
    text = '[[rule]]\nby = "agent"\nconfidence = { ge = 0.9 }\noutcome = "allow"\n'
    d = decide(text, req(by="agent", name="bot", confidence=confidence))
    assert d.path[0].matched is matched
    assert d.outcome == ("allow" if matched else "require_approval")
    if confidence is None:
        assert d.path[0].why == "confidence is missing"


def test_confidence_shorthand_and_exists():
    assert decide('[[rule]]\nconfidence = 1.0\noutcome = "allow"\n', req(confidence=1.0)).outcome == "allow"
    text = '[[rule]]\nconfidence = { exists = false }\noutcome = "deny"\n'
    assert decide(text, req(confidence=None)).outcome == "deny"
    assert decide(text, req(confidence=0.2)).outcome == "require_approval"


# --- time windows -----------------------------------------------------------------------

NIGHT = '[[rule]]\nname = "quiet"\nhours = "22:00-07:00"\noutcome = "deny"\n'
BERLIN = "Europe/Berlin"


@pytest.mark.parametrize("utc, inside", [
    # the night before the spring change (CET, +1)
    ("2026-03-28T20:30", False),  # 21:30 local
    ("2026-03-28T21:00", True),   # 22:00 local: the start is inside
    ("2026-03-28T23:30", True),   # 00:30 local: past midnight
    ("2026-03-29T00:59", True),   # 01:59 CET, just before the gap
    ("2026-03-29T01:00", True),   # 03:00 CEST, just after it
    ("2026-03-29T04:59", True),   # 06:59 CEST
    ("2026-03-29T05:00", False),  # 07:00 CEST: the end is outside (05:00 UTC would be inside in UTC)
    ("2026-03-29T05:30", False),
    # the autumn change (CEST -> CET): 02:00-03:00 happens twice
    ("2026-10-25T00:30", True),   # 02:30 CEST
    ("2026-10-25T01:30", True),   # 02:30 CET
    ("2026-10-25T05:59", True),   # 06:59 CET
    ("2026-10-25T06:00", False),  # 07:00 CET
    ("2026-10-24T20:30", True),   # 22:30 CEST (20:30 UTC, outside in UTC)
    ("2026-10-24T19:30", False),  # 21:30 CEST
])
def test_hours_wrap_midnight_in_the_local_zone_across_dst(utc, inside):
    at = dt.datetime.fromisoformat(utc).replace(tzinfo=UTC)
    d = decide(NIGHT, req(at=at, zone=BERLIN))
    assert d.path[0].matched is inside
    if not inside:
        local = at.astimezone(ZoneInfo(BERLIN))
        assert d.path[0].why == f"it is {local:%H:%M}, outside 22:00-07:00"


def test_a_plain_daytime_window():
    text = '[[rule]]\nhours = "09:00-17:30"\noutcome = "allow"\n'
    d = decide(text, req(at=NOON, zone="America/New_York"))  # 08:00 EDT
    assert d.outcome == "require_approval" and d.path[0].why == "it is 08:00, outside 09:00-17:30"
    assert decide(text, req(at=NOON.replace(hour=13), zone="America/New_York")).outcome == "allow"  # 09:00: the start is inside
    assert decide(text, req(at=NOON.replace(hour=21, minute=30), zone="America/New_York")).outcome == "require_approval"  # 17:30


def test_weekdays_are_read_in_the_local_zone():
    text = '[[rule]]\nname = "weekend"\nweekdays = ["sat", "sun"]\noutcome = "deny"\n'
    friday_night_utc = dt.datetime(2026, 6, 5, 23, 0, tzinfo=UTC)  # Friday 23:00 UTC
    assert decide(text, req(at=friday_night_utc)).outcome == "require_approval"
    assert decide(text, req(at=friday_night_utc, zone="Europe/Berlin")).outcome == "deny"  # Saturday 01:00 there
    d = decide(text, req(at=friday_night_utc, zone="America/Los_Angeles"))
    assert d.path[0].why == "it is fri, not sat, sun"


def test_weekdays_and_hours_together():
    text = '[[rule]]\nweekdays = ["mon", "tue", "wed", "thu", "fri"]\nhours = "09:00-17:00"\noutcome = "allow"\n'
    assert decide(text, req(at=NOON)).outcome == "allow"  # Wednesday 12:00
    assert decide(text, req(at=NOON + dt.timedelta(days=3))).outcome == "require_approval"  # Saturday
    assert decide(text, req(at=NOON.replace(hour=18))).outcome == "require_approval"


# --- expiry ------------------------------------------------------------------------------


def test_per_kind_expiry_then_settings_then_scope_default():
    text = '[settings]\napproval_expiry = "2h"\n\n[expiry]\n"git.push" = "4h"\n"git.*" = "30m"\n'
    p = pol.parse(text)
    assert p.expiry_for("git.push", "external") == 4 * 3600  # first glob that matches, in file order
    assert p.expiry_for("git.commit", "own_files") == 1800
    assert p.expiry_for("calendar.create_event", "external") == 7200
    assert pol.decide(p, req("git.push")).expires_in_s == 4 * 3600
    defaults = pol.parse("")
    assert defaults.expiry_for("notify.send", "local") == 3600
    assert defaults.expiry_for("git.push", "external") == 86400
    assert defaults.undo_grace == 10


def test_undo_grace_setting():
    assert pol.parse('[settings]\nundo_grace = "1m30s"\n').undo_grace == 90


# --- explanations ------------------------------------------------------------------------


def test_explain_lines_mention_every_rule_and_the_decision():
    text = ('[expiry]\n"git.*" = "4h"\n\n'
            '[[rule]]\nname = "bills"\nkind = "bills.*"\noutcome = "allow"\n\n'
            '[[rule]]\nname = "big"\nmatch = { size = { gt = 10 } }\noutcome = "deny"\n\n'
            '[[rule]]\nname = "agents"\nby = "agent"\noutcome = "allow"\n')
    d = decide(text, req("git.push", {"size": 3}))
    lines = pol.explain_lines(d)
    assert len(d.path) == 3 + 3 and len(lines) == len(d.path) + 1
    for name in ("bills", "big", "agents", "default: local and reversible", "default: your own edit", "default: side effects need"):
        assert any(name in line for line in lines), name
    assert "skipped  #1" in lines[0] and "(kind git.push is not bills.*)" in lines[0]
    assert "(payload.size is 3, not > 10.0)" in lines[1]
    assert "(proposed by user, not agent)" in lines[2]
    assert re.search(r"matched\s+built-in\s+default: side effects need your approval -> require_approval", lines[5])
    assert lines[-1] == "  decision: require_approval by 'default: side effects need your approval'; a request expires after 4h"


def test_explain_lines_show_the_reason_of_a_deny():
    d = decide('[[rule]]\nname = "no"\noutcome = "deny"\nreason = "not today"\n', req())
    lines = pol.explain_lines(d)
    assert lines[0].strip().startswith("matched  #1") and lines[-1] == "  decision: deny by 'no': not today"


def test_the_decision_records_its_time_and_inputs():
    d = decide("", req(at=dt.datetime(2026, 6, 3, 14, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))))
    assert d.decided_at == "2026-06-03T12:00:00.123Z"
