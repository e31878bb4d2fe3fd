"""`today.plan` against a real daemon: the day_plan artifact for a date (or why there is none), the free
slots from the events stored now, the events' conflicts in `today.get`, and `oxymus today`'s top three."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import DaemonProcess, run_cli, wait_for, write_config
from test_tui_today import berlin_today, bills_toml
from test_tui_today_front import ics


@pytest.fixture
def calendar_daemon(profile, tmp_path):
    tomorrow = berlin_today() + dt.timedelta(days=1)
    (tmp_path / "work.ics").write_text(ics(tomorrow))  # 10:00–11:00 and 10:30–11:30 tomorrow, in Berlin
    write_config(profile, f'[time]\nzone = "Europe/Berlin"\n[bills]\n[[calendar.ics]]\npath = "{tmp_path / "work.ics"}"\n'
                          'name = "work"\n[agents.planner]\nday_start = "09:00"\nday_end = "18:00"\nmin_slot = "30m"\n',
                 bills_toml=bills_toml())
    d = DaemonProcess(profile).start()
    yield d
    d.stop()


def call(daemon: DaemonProcess, method: str, params: dict | None = None) -> dict:
    with daemon.client() as conn:
        return conn.call(method, params or {})


def test_free_slots_come_from_the_events_stored_now_and_a_missing_plan_says_why(calendar_daemon):
    tomorrow = (berlin_today() + dt.timedelta(days=1)).isoformat()
    wait_for(lambda: len(call(calendar_daemon, "today.get", {"date": tomorrow})["events"]) == 2, what="tomorrow's events")
    result = call(calendar_daemon, "today.plan", {"date": tomorrow})
    assert result["date"] == tomorrow and result["zone"] == "Europe/Berlin" and result["plan"] is None
    assert result["hint"].startswith("none was made for ")
    assert result["working_hours"] == "09:00–18:00"
    assert [(s["start"], s["end"], s["minutes"]) for s in result["free_slots"]] == [("09:00", "10:00", 60), ("11:30", "18:00", 390)]

    events = {e["summary"]: e for e in call(calendar_daemon, "today.get", {"date": tomorrow})["events"]}
    assert events["Design review"]["conflicts"] == ["10:30–11:30 Dentist"]
    assert events["Dentist"]["conflicts"] == ["10:00–11:00 Design review"]
    assert events["Design review"]["description"] == "Bring the mockups" and events["Design review"]["calendar"] == "work"

    today = call(calendar_daemon, "today.plan")
    assert today["plan"] is None and today["hint"] == "the planner runs at 06:30 daily"
    text = run_cli("today").stdout.decode()
    assert "Top three\n  no day plan (the planner runs at 06:30 daily); `oxymus agents run planner` makes one now" in text

    bad = run_cli("today", "--date", "2026-02-30")
    assert bad.returncode != 0


def test_the_plan_made_today_is_served_and_printed(calendar_daemon):
    wait_for(lambda: call(calendar_daemon, "today.get")["bills"], what="the bills")
    run = call(calendar_daemon, "agents.run", {"name": "planner"})
    assert run["outcome"] == "succeeded", run
    result = call(calendar_daemon, "today.plan")
    assert result["hint"] is None and result["made_at"]
    top = result["plan"]["top"]
    assert [t["title"] for t in top] == ["Pay Tax advisor"] and top[0]["rank"] == 1
    text = run_cli("today").stdout.decode()
    assert "Top three (day plan made " in text and "  1. Pay Tax advisor: overdue since" in text
    assert text.index("Top three") < text.index("Events")


def test_the_day_view_is_never_older_than_the_state(calendar_daemon, tmp_path):
    """today.get keeps what it read per state change (daemon/state_rpc.py): asked again right after a
    poll stored a change, or after a bill was paid, it shows the change, with no wait in between."""
    tomorrow_day = berlin_today() + dt.timedelta(days=1)
    tomorrow = tomorrow_day.isoformat()
    wait_for(lambda: len(call(calendar_daemon, "today.get", {"date": tomorrow})["events"]) == 2, what="tomorrow's events")
    assert call(calendar_daemon, "today.get", {"date": tomorrow})["events"][0]["summary"] == "Design review"  # now cached

    (tmp_path / "work.ics").write_text(ics(tomorrow_day).replace("SUMMARY:Design review", "SUMMARY:Design review, moved"))
    call(calendar_daemon, "state.refresh", {"source": "calendar"})
    assert {e["summary"] for e in call(calendar_daemon, "today.get", {"date": tomorrow})["events"]} == {"Design review, moved", "Dentist"}

    before = next(b for b in call(calendar_daemon, "today.get")["bills"] if b["name"] == "Internet")
    assert before["status"] != "paid"
    paid = run_cli("paid", "internet")  # returns once the executor recorded the payment
    assert paid.returncode == 0, paid.stderr
    after = next(b for b in call(calendar_daemon, "today.get")["bills"] if b["name"] == "Internet" and b["due"] == before["due"])
    assert after["status"] == "paid"
