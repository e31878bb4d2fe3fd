"""The weekly review against a real daemon: the reflection's review of the week made on demand, the record per
ISO week, resuming where it stopped, answers becoming memory records through memory.update actions with their
provenance, the reflection's proposals listed for deciding, status, and bad input answered in words."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from conftest import DaemonProcess, pin_today, run_cli, write_config
from oxymus.agents.dayplan import DayPlan, PlanItem
from oxymus.agents.reflection_review import reviewed_week
from oxymus.client.wire import RpcError
from oxymus.kernel.ulid import new_ulid
from oxymus.plans import parse
from oxymus.store import db
from test_review_daemon import CONFIG, PLANS, ZONE, today

SLIPPING = "Write the workshop outline"


def the_week():
    return reviewed_week(today(), ["sun"], ZONE)


def seed_week(paths, plans_text: str = PLANS) -> None:
    """Two day plans of the week under review with the same PLANS.md item in the top three, still open."""
    ids = {a.text: a.id for a in parse(plans_text.encode()).actions}
    week = the_week()
    paths.ensure()
    conn = db.connect(paths.db_file)
    try:
        for n in (0, 1):
            day = week.monday + dt.timedelta(days=n)
            plan = DayPlan(date=day.isoformat(), title=f"Day plan for {day}", zone="Europe/Berlin",
                           generated_at="2026-01-01T06:30:00Z", made="", working_hours="09:00–18:00", min_slot="30 min", top=[
                               PlanItem(id="c1", rank=1, kind="plan", title=SLIPPING, why="next action in PLANS.md",
                                        rule="next action in PLANS.md", ref_kind="plans", ref=ids[SLIPPING])])
            conn.execute("INSERT INTO artifacts (id, agent, run_id, kind, key, title, content, data, path, created_at) "
                         "VALUES (?, 'planner', 'seed', 'day_plan', ?, ?, '', ?, NULL, '2026-01-01T06:30:00.000Z')",
                         (new_ulid(), day.isoformat(), plan.title, json.dumps(plan.model_dump(mode="json"))))
    finally:
        conn.close()


@pytest.fixture
def daemon(profile, monkeypatch):
    pin_today(monkeypatch, "Europe/Berlin")  # the seeded week stays the daemon's week across midnight
    write_config(profile, CONFIG)
    Path(profile.config_dir, "PLANS.md").write_text(PLANS)
    seed_week(profile)
    d = DaemonProcess(profile).start()
    yield d
    d.stop()


def test_a_weekly_review_resumes_records_answers_as_memory_and_lists_the_reflections_proposals(daemon, profile):
    week = the_week().key
    with daemon.client() as c:
        assert c.call("review.status")["weekly"] == {"week": week, "status": "none", "step": None, "finished_at": None}
        view = c.call("review.weekly_get")  # the reflection runs now: there was no review of the week
        assert view["week"] == week and view["record"]["step"] == "week" and view["error"] is None
        assert [q["text"] for q in view["questions"]] == ["Is this still the right plan?", "What should I stop doing?",
                                                          "What is the one thing for next week?"]
        assert [q["id"] for q in view["questions"]] == ["q1", "q2", "q3"]
        assert any(SLIPPING in line for line in view["sections"]["Slipped"])
        kinds = sorted(a["kind"] for a in view["approvals"])
        assert kinds == ["memory.update", "plans.edit"]  # the reflection's proposals of this week, waiting
        assert all(any(i["ref"] == f"weekly_review:{week}" for i in a["inputs"]) for a in view["approvals"])
        assert c.call("review.status")["weekly"]["step"] == "week"

        step = c.call("review.weekly_step", {"step": "week"})
        assert step["record"]["step"] == "questions"

    with daemon.client("again") as c:  # later, another client: where it was left
        view = c.call("review.weekly_get")
        assert view["record"]["step"] == "questions"
        assert len(c.call("artifacts.list", {"kind": "weekly_review"})["artifacts"]) == 1  # not written twice

        step = c.call("review.weekly_step", {"step": "questions", "answers": {
            "q1": {"text": "Yes, but the outline goes first on Monday", "kind": "decision"},
            "q2": {"text": "  "},  # skipped
            "q3": {"text": "Ship the workshop"},
        }})
        assert step["problems"] == [] and step["record"]["step"] == "proposals"
        answers = step["record"]["answers"]
        assert set(answers) == {"q1", "q3"}
        assert (answers["q1"]["kind"], answers["q3"]["kind"]) == ("decision", "reflection")
        assert answers["q1"]["status"] == "succeeded"

        action = c.call("actions.get", {"id": answers["q1"]["action_id"]})["action"]
        assert action["kind"] == "memory.update" and action["proposer"]["type"] == "user"
        assert {(i["kind"], i["ref"]) for i in action["inputs"]} == {("artifact", f"weekly_review:{week}"),
                                                                     ("question", f"{week}:q1")}
        assert next(i for i in action["inputs"] if i["kind"] == "question")["note"] == "Is this still the right plan?"
        found = c.call("memory.search", {"query": "outline Monday"})
        found_id = next(h["id"] for h in found["hits"] if h["title"] == "Yes, but the outline goes first on Monday")
        hit = c.call("memory.get", {"id": found_id})["record"]
        assert hit["kind"] == "decision" and "Asked in the weekly review of" in hit["body"]
        assert "weekly-review" in hit["tags"]

        again = c.call("review.weekly_step", {"step": "questions", "answers": {"q1": {
            "text": "Yes, but the outline goes first on Monday", "kind": "decision"}}, "go_to": "proposals"})
        assert again["record"]["answers"]["q1"]["action_id"] == answers["q1"]["action_id"]  # the same answer: one record

        waiting = view["approvals"][0]["id"]
        c.call("actions.deny", {"id": waiting, "reason": "not this week"})
        done = c.call("review.weekly_finish", {"decisions": {f"action:{waiting}": "deny"}})
        assert done["record"]["decisions"] == {f"action:{waiting}": "deny"}
        assert done["record"]["status"] == "done" and done["record"]["finished_at"]
        assert done["lines"][0].startswith("decision: “Is this still the right plan?” → Yes, but the outline goes first")
        assert "(in memory)" in done["lines"][0]
        assert done["lines"][-1] == "proposals: 1 denied; 1 still waiting"
        st = c.call("review.status")["weekly"]
        assert (st["week"], st["status"], st["step"]) == (week, "done", None)


def test_bad_input_is_answered_in_words_and_changes_nothing(daemon):
    with daemon.client() as c:
        c.call("review.weekly_get")
        with pytest.raises(RpcError, match=r"no question q9 in the review of .* \(questions: q1, q2, q3\)"):
            c.call("review.weekly_step", {"step": "questions", "answers": {"q9": {"text": "hm"}}})
        with pytest.raises(RpcError, match="answers belong to the Questions step, not to 'week'"):
            c.call("review.weekly_step", {"step": "week", "answers": {"q1": {"text": "hm"}}})
        with pytest.raises(RpcError, match="keyed action:<id>; not capture:1"):
            c.call("review.weekly_step", {"step": "proposals", "decisions": {"capture:1": "approve"}})
        with pytest.raises(RpcError, match="keyed action:<id>; not nope"):
            c.call("review.weekly_finish", {"decisions": {"nope": "deny"}})
        with pytest.raises(RpcError, match="finished with review.weekly_finish"):
            c.call("review.weekly_step", {"step": "proposals", "go_to": "done"})
        with pytest.raises(RpcError, match="kind"):
            c.call("review.weekly_step", {"step": "questions", "answers": {"q1": {"text": "hm", "kind": "fact"}}})
        assert c.call("review.status")["weekly"]["step"] == "week"  # nothing moved
        assert c.call("memory.search", {"query": "hm"})["hits"] == []


def test_weekly_status_on_the_command_line(daemon):
    week = the_week().key
    st = json.loads(run_cli("review", "status", "--json").stdout)
    assert st["weekly"] == {"week": week, "status": "none", "step": None, "finished_at": None}
    assert f"weekly review ({week}): not started; `oxymus review weekly` starts it" in run_cli("review", "status").stdout.decode()
    with daemon.client() as c:
        c.call("review.weekly_get")
        c.call("review.weekly_step", {"step": "week"})
    assert f"weekly review ({week}): stopped at Questions; `oxymus review weekly` resumes it there" in \
        run_cli("review", "status").stdout.decode()
    with daemon.client() as c:
        c.call("review.weekly_finish")
    st = json.loads(run_cli("review", "status", "--json").stdout)
    assert (st["weekly"]["status"], st["weekly"]["step"]) == ("done", None)
    assert f"weekly review ({week}): done" in run_cli("review", "status").stdout.decode()
