"""A cockpit whose every date is fixed: a real daemon with its clock pinned by OXYMUS_NOW, seeded stores.

Saturday 21 November 2026, 09:00 in Berlin for the daemon (it runs on from there), 10:30 for the TUI's
frozen display clock. The daemon knows: a calendar (an ICS file: an all-day offsite, a standup, a
dentist overlapping a call), PLANS.md, yesterday's day plan with two items left to carry, a review
finished three days ago, three captures with fixed ids (so fixed times) and the triage agent's
suggestions for them, and one memory edit waiting for approval. Shared by the snapshot matrix and the
review's Pilot tests.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from conftest import DaemonProcess, wait_for, write_config
from oxymus.agents.dayplan import DayPlan, PlanItem
from oxymus.kernel.ulid import new_ulid
from oxymus.plans import parse
from oxymus.store import capture_sql, db

# 09:00 in Berlin: what the daemon calls now when it starts (it runs on from there). Ninety minutes before the
# TUI's clock, so an age or an expiry shown to the minute does not move with the second the test takes to seed.
PINNED = "2026-11-21T08:00:00Z"
DAY = dt.date(2026, 11, 21)
APP_NOW = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.timezone.utc).timestamp()  # the TUI's frozen clock

CONFIG = """[time]
zone = "Europe/Berlin"

[llm]
enabled = false

[plans]
file = "PLANS.md"

[[calendar.ics]]
path = "{ics}"
name = "personal"
interval = 3600

[agents.planner]
day_start = "09:00"
day_end = "18:00"
min_slot = "30m"

[agents.triage]
enabled = false
{ui}"""
PLANS = ("# Plans\n\n## Next actions\n\n- [ ] Write the workshop outline\n- [ ] Renew the domain\n"
         "- [ ] Fix the blog build\n")
POLICY = '[[rule]]\nname = "memory needs me"\nkind = "memory.update"\noutcome = "require_approval"\n'
SURE = "buy oat milk"  # triage: a next action, pre-selected
CALL = "call Ana tomorrow 2pm about the workshop"  # triage: a calendar event, not offered without CalDAV
IDEA = "idea: a weekly review that writes itself from the activity log"
CAPTURES = [  # (ms since the epoch, text): yesterday evening and this morning
    (int(dt.datetime(2026, 11, 20, 18, 5, tzinfo=dt.timezone.utc).timestamp() * 1000), IDEA),
    (int(dt.datetime(2026, 11, 21, 7, 40, tzinfo=dt.timezone.utc).timestamp() * 1000), CALL),
    (int(dt.datetime(2026, 11, 21, 8, 55, tzinfo=dt.timezone.utc).timestamp() * 1000), SURE),
]


def _at(hour: int, minute: int) -> str:
    """A Berlin wall time on DAY (UTC+1 in November) as an ICS UTC time."""
    return f"{DAY:%Y%m%d}T{hour - 1:02d}{minute:02d}00Z"


def ics() -> str:
    def event(uid: str, start: str, end: str, summary: str, extra: str = "") -> str:
        return (f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART{start}\r\nDTEND{end}\r\n"
                f"SUMMARY:{summary}\r\n{extra}END:VEVENT\r\n")
    after = DAY + dt.timedelta(days=1)
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//oxymus tests//EN\r\n"
            + event("standup@t", f":{_at(9, 0)}", f":{_at(9, 15)}", "Standup")
            + event("dentist@t", f":{_at(10, 0)}", f":{_at(11, 0)}", "Dentist", "LOCATION:Torstr. 12\r\n")
            + event("call@t", f":{_at(10, 30)}", f":{_at(11, 30)}", "Call with Ana")
            + event("offsite@t", f";VALUE=DATE:{DAY:%Y%m%d}", f";VALUE=DATE:{after:%Y%m%d}", "Offsite in Leipzig")
            + "END:VCALENDAR\r\n")


def seed(paths) -> None:
    """Yesterday's day plan, a review done three days ago, and the captures, straight into the store."""
    ids = {a.text: a.id for a in parse(PLANS.encode()).actions}
    yesterday = DAY - dt.timedelta(days=1)
    plan = DayPlan(date=yesterday.isoformat(), title=f"Day plan for {yesterday}", zone="Europe/Berlin",
                   generated_at="2026-11-20T05:30:00Z", made="", working_hours="09:00–18:00", min_slot="30 min", top=[
                       PlanItem(id="c1", rank=1, kind="plan", title="Write the workshop outline", why="next action in PLANS.md",
                                rule="next action in PLANS.md", ref_kind="plans", ref=ids["Write the workshop outline"]),
                       PlanItem(id="c2", rank=2, kind="deadline", title="Send the invoice", why="due today",
                                rule="due today", ref_kind="state", ref="calendar.deadline:invoice"),
                   ])
    paths.ensure()
    conn = db.connect(paths.db_file)
    try:
        conn.execute("INSERT INTO artifacts (id, agent, run_id, kind, key, title, content, data, path, created_at) "
                     "VALUES (?, 'planner', 'seed', 'day_plan', ?, ?, '', ?, NULL, '2026-11-20T05:30:00.000Z')",
                     (new_ulid(), yesterday.isoformat(), plan.title, json.dumps(plan.model_dump(mode="json"))))
        done = (DAY - dt.timedelta(days=3)).isoformat()
        conn.execute("INSERT INTO reviews (date, status, step, started_at, updated_at, finished_at) "
                     "VALUES (?, 'done', 'done', 'x', 'x', 'x')", (done,))
        for ms, text in CAPTURES:
            capture_sql.add_sync(conn, text, "cli", capture_id=new_ulid(ms=ms))
    finally:
        conn.close()


def start(profile, monkeypatch, theme: str | None = None) -> DaemonProcess:
    """The daemon, started with its clock pinned, the calendar polled, the triage agent run, one action waiting."""
    folder = Path(profile.home)
    (folder / "cal.ics").write_text(ics())
    write_config(profile, CONFIG.format(ics=folder / "cal.ics", ui=f'\n[ui]\ntheme = "{theme}"\n' if theme else ""))
    Path(profile.config_dir, "PLANS.md").write_text(PLANS)
    Path(profile.policy_file).write_text(POLICY)
    seed(profile)
    monkeypatch.setenv("OXYMUS_NOW", PINNED)
    d = DaemonProcess(profile).start()
    monkeypatch.delenv("OXYMUS_NOW")
    with d.client() as c:
        wait_for(lambda: len(c.call("today.get")["events"]) == 4, what="the calendar polled")
        assert c.call("agents.run", {"name": "triage"})["outcome"] == "succeeded"
        waiting = c.call("actions.propose", {"kind": "memory.update", "payload": {"op": "add", "record": {
            "kind": "decision", "title": "Publish on Thursdays"}}, "reason": "said so in Monday's capture"})["action"]
        assert waiting["status"] == "awaiting_approval", waiting
        d.waiting_id = waiting["id"]
        # With no desktop and no TUI yet, its notification is missed; marked seen, so the cockpit
        # opens as on any day without a "missed notifications" toast over it (test_notify_daemon.py has that).
        # Settled first (tried on the desktop, then missed), then seen: marking it while it is still pending
        # would mark nothing, and it would turn missed afterwards.
        wait_for(lambda: (ns := c.call("notifications.list", {"all": True})["notifications"]) and all(
            n["state"] != "pending" for n in ns), what="the approval's notification, settled")
        assert c.call("notifications.seen", {})["missed"] == 0
    return d
