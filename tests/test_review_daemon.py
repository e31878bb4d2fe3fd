"""The morning review against a real daemon: the record per day, resuming where it stopped, yesterday's items,
the top three written into the day plan (artifact and file), and what cannot be done said in words."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import DaemonProcess, pin_today, write_config
from oxymus.agents.dayplan import DayPlan, PlanItem
from oxymus.client.wire import RpcError
from oxymus.kernel.ulid import new_ulid
from oxymus.plans import parse
from oxymus.store import db
from oxymus.time.clock import PIN_ENV

CONFIG = """[time]
zone = "Europe/Berlin"

[llm]
enabled = false

[plans]
file = "PLANS.md"
"""
PLANS = "# Plans\n\n## Next actions\n\n- [ ] Write the workshop outline\n- [ ] Renew the domain\n- [ ] Fix the blog build\n"
ZONE = ZoneInfo("Europe/Berlin")


def today() -> dt.date:
    """The daemon's today: the day the test pinned (pin_today), else today in ZONE."""
    pinned = os.environ.get(PIN_ENV)
    return dt.datetime.fromisoformat(pinned).astimezone(ZONE).date() if pinned else dt.datetime.now(ZONE).date()


def seed_past(paths, plans_text: str, *, plan_days_ago: int = 1, review_days_ago: int | None = None) -> dict[str, str]:
    """An earlier day plan (artifact of the planner) and, optionally, a review finished on an earlier day.

    Returns PLANS.md action ids by text."""
    ids = {a.text: a.id for a in parse(plans_text.encode()).actions}
    day = today() - dt.timedelta(days=plan_days_ago)
    plan = DayPlan(date=day.isoformat(), title=f"Day plan for {day}", zone="Europe/Berlin", generated_at="2026-01-01T06:30:00Z",
                   made="", working_hours="09:00–18:00", min_slot="30 min", top=[
                       PlanItem(id="c1", rank=1, kind="plan", title="Write the workshop outline", why="next action in PLANS.md",
                                rule="next action in PLANS.md", ref_kind="plans", ref=ids["Write the workshop outline"]),
                       PlanItem(id="c2", rank=2, kind="deadline", title="Send the invoice", why="due today",
                                rule="due today", ref_kind="state", ref="calendar.deadline:invoice"),
                   ])
    paths.ensure()
    conn = db.connect(paths.db_file)
    try:
        conn.execute("INSERT INTO artifacts (id, agent, run_id, kind, key, title, content, data, path, created_at) "
                     "VALUES (?, 'planner', 'seed', 'day_plan', ?, ?, '', ?, NULL, '2026-01-01T06:30:00.000Z')",
                     (new_ulid(), day.isoformat(), plan.title, json.dumps(plan.model_dump(mode="json"))))
        if review_days_ago is not None:
            done = (today() - dt.timedelta(days=review_days_ago)).isoformat()
            conn.execute("INSERT INTO reviews (date, status, step, started_at, updated_at, finished_at) "
                         "VALUES (?, 'done', 'done', 'x', 'x', 'x')", (done,))
    finally:
        conn.close()
    return ids


@pytest.fixture
def daemon(profile, monkeypatch):
    pin_today(monkeypatch, "Europe/Berlin")  # the seeded days stay yesterday and 3 days ago across midnight
    write_config(profile, CONFIG)
    Path(profile.config_dir, "PLANS.md").write_text(PLANS)
    d = DaemonProcess(profile)
    d.ids = seed_past(profile, PLANS, plan_days_ago=1, review_days_ago=3)
    d.start()
    yield d
    d.stop()


def test_a_review_resumes_where_it_stopped_and_writes_the_chosen_top_three(daemon, profile):
    date = today().isoformat()
    with daemon.client() as c:
        status = c.call("review.status")
        assert (status["status"], status["step"], status["days_since_last"]) == ("none", None, 3)

        view = c.call("review.get")
        assert view["record"]["step"] == "yesterday" and view["record"]["status"] == "open"
        assert view["plan"]["date"] == date  # the planner made today's plan for the review
        assert view["since_line"] == "3 days since your last review: 2 items to carry"
        keys = {y["title"]: y["key"] for y in view["yesterday"]}
        assert set(keys) == {"Write the workshop outline", "Send the invoice"}
        assert [c_["title"] for c_ in view["candidates"]][:3] == [t["title"] for t in view["plan"]["top"]]
        assert c.call("review.status")["step"] == "yesterday"

        outline = keys["Write the workshop outline"]
        done = c.call("review.step", {"step": "yesterday", "decisions": {outline: "done", keys["Send the invoice"]: "carry"}})
        assert done["problems"] == [] and done["record"]["step"] == "calendar"
        assert "- [x] Write the workshop outline" in Path(profile.config_dir, "PLANS.md").read_text()

    with daemon.client("again") as c:  # another client, later: the review stands where it was left
        view = c.call("review.get")
        assert view["record"]["step"] == "calendar"
        assert view["record"]["decisions"][outline] == "done"
        assert [y["title"] for y in view["yesterday"]] == ["Send the invoice"]  # checked in PLANS.md since
        carried = next(x for x in view["candidates"] if x["source"] == "carried")
        assert carried["title"] == "Send the invoice" and carried["why"].startswith("carried from yesterday")
        assert c.call("review.status")["step"] == "calendar"

        with pytest.raises(RpcError, match="finished with review.finish"):
            c.call("review.step", {"step": "top", "go_to": "done"})
        with pytest.raises(RpcError, match="top three: not a candidate: nope"):
            c.call("review.finish", {"top": ["nope"]})
        with pytest.raises(RpcError, match="no CalDAV calendar to block focus time in"):
            c.call("review.finish", {"block": True})
        assert c.call("review.status")["status"] == "open"  # a refused finish changed nothing

        first = view["candidates"][0]
        result = c.call("review.finish", {"top": [carried["id"], first["id"]]})
        assert result["record"]["status"] == "done" and result["record"]["top"] == [carried["id"], first["id"]]
        path = Path(result["path"])
        assert path == Path(profile.data_dir, "artifacts", "planner", f"{date}.md")
        text = path.read_text()
        assert f"1. **Send the invoice**: carried from yesterday" in text
        assert f"2. **{first['title']}**" in text and "3. **" not in text
        art = c.call("artifacts.list", {"kind": "day_plan", "key": date})["artifacts"][0]
        assert [t["title"] for t in art["data"]["top"]] == ["Send the invoice", first["title"]]

        status = c.call("review.status")
        assert (status["status"], status["step"], status["days_since_last"], status["last_done"]) == ("done", None, 0, date)


def test_yesterday_takes_only_carry_drop_or_done(daemon):
    with daemon.client() as c:
        c.call("review.get")
        with pytest.raises(RpcError, match="carried, dropped or done; not yesterday:x=approve"):
            c.call("review.step", {"step": "yesterday", "decisions": {"yesterday:x": "approve"}})
        with pytest.raises(RpcError):
            c.call("review.step", {"step": "nowhere"})
        assert c.call("review.status")["step"] == "yesterday"


def test_review_status_on_the_command_line(daemon):
    from conftest import run_cli

    proc = run_cli("review", "status")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().splitlines()[:2] == [f"today's review ({today()}): not started; `oxymus review morning` starts it",
                                                 f"last review: {today() - dt.timedelta(days=3)} (3 days ago)"]
    with daemon.client() as c:
        c.call("review.get")
        c.call("review.step", {"step": "yesterday", "go_to": "inbox"})
    proc = run_cli("review", "status", "--json")
    st = json.loads(proc.stdout)
    assert (st["status"], st["step"], st["days_since_last"]) == ("open", "inbox", 3)
    assert run_cli("review", "status").stdout.decode().startswith(
        f"today's review ({today()}): stopped at Inbox; `oxymus review morning` resumes it there")
    with daemon.client() as c:
        c.call("review.finish")
    st = json.loads(run_cli("review", "status", "--json").stdout)
    assert (st["status"], st["step"], st["days_since_last"]) == ("done", None, 0)
    assert run_cli("review", "status").stdout.decode().splitlines()[0] == f"today's review ({today()}): done"


def test_review_status_without_a_daemon_says_so(profile):
    from conftest import run_cli

    proc = run_cli("review", "status", "--json")
    assert proc.returncode == 3
    assert "the daemon is not running" in proc.stderr.decode()


def zone_in_the_morning() -> str:
    """A zone where it is between 02:00 and 14:00 now, so today still has free time to block (whenever the test runs)."""
    now = dt.datetime.now(dt.timezone.utc)
    for name in ("Pacific/Kiritimati", "Asia/Tokyo", "Asia/Kolkata", "Europe/Berlin", "America/New_York", "America/Los_Angeles"):
        if 2 <= now.astimezone(ZoneInfo(name)).hour < 14:
            return name
    raise AssertionError("no zone in the morning")  # the offsets leave no 12-hour gap


def test_with_a_caldav_calendar_calendar_suggestions_and_a_focus_block_are_offered(profile):
    zone = zone_in_the_morning()
    write_config(profile, f'[time]\nzone = "{zone}"\n\n[llm]\nenabled = false\n\n[plans]\nfile = "PLANS.md"\n\n'
                          '[agents.planner]\nday_start = "00:00"\nday_end = "23:59"\n\n'
                          '[[calendar.caldav]]\nurl = "http://127.0.0.1:9/dav/"\nusername = "me"\nname = "work"\n')
    Path(profile.config_dir, "PLANS.md").write_text(PLANS)
    d = DaemonProcess(profile).start()
    try:
        with d.client() as c:
            c.call("capture.add", {"text": "call Ana tomorrow 2pm about the workshop"})
            c.call("agents.run", {"name": "triage"})
            view = c.call("review.get")
            assert view["block_calendar"] == "work"
            [entry] = view["inbox"]
            assert entry["suggestion"]["to"] == "calendar_event" and entry["offered"] and entry["why_not"] is None
            result = c.call("review.finish", {"block": True})
            block = result["block"]
            assert block["kind"] == "calendar.create_event" and block["payload"]["calendar"] == "work"
            assert block["status"] == "awaiting_approval"  # the policy plane decides; your calendar waits for a yes
            assert block["payload"]["summary"] == f"Focus: {result['plan']['top'][0]['title']}"
            assert block["payload"]["start"] == dt.datetime.fromisoformat(view["plan"]["free_slots"][0]["starts_at"]).astimezone(
                ZoneInfo(zone)).isoformat()
            assert "focus block" in result["summary"]
            again = c.call("review.finish", {"block": True})  # finishing again proposes nothing new
            assert again["block"]["id"] == block["id"]
    finally:
        d.stop()
