"""A day outside the calendar window is said to be unknown, never "nothing scheduled": a real ICS file
polled by a real daemon."""

from __future__ import annotations

import datetime as dt
import json

from conftest import DaemonProcess, run_cli, write_config


def vevent(uid: str, day: dt.date, summary: str) -> str:
    return (f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:{summary}\r\n"
            f"DTSTART:{day:%Y%m%d}T100000Z\r\nDTEND:{day:%Y%m%d}T110000Z\r\nEND:VEVENT\r\n")


def test_a_day_outside_the_window_is_unknown_not_empty(profile, home, monkeypatch):
    # The daemon's day is pinned to the test's: a run that crosses midnight must not move the window under it.
    today = dt.datetime.now(dt.timezone.utc).date()
    monkeypatch.setenv("OXYMUS_NOW", f"{today}T12:00:00+00:00")
    yesterday, long_ago = today - dt.timedelta(days=1), today - dt.timedelta(days=30)
    (home / "cal.ics").write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
                                  + vevent("recent", yesterday, "Dentist") + vevent("old", long_ago, "Old meeting")
                                  + "END:VCALENDAR\r\n")
    write_config(profile, f'[time]\nzone = "UTC"\n[calendar]\npast_days = 7\nfuture_days = 30\n'
                          f'[[calendar.ics]]\npath = "{home}/cal.ics"\nname = "personal"\ninterval = 3600\n')
    d = DaemonProcess(profile).start()
    try:
        with d.client() as c:
            c.call("state.refresh", {})  # the daemon polls on start too; this waits for it to be done

        inside = run_cli("today", "--date", yesterday.isoformat()).stdout.decode()
        assert "Dentist" in inside and "outside the calendar window" not in inside

        first, last = today - dt.timedelta(days=7), today + dt.timedelta(days=30)
        proc = run_cli("today", "--date", long_ago.isoformat())
        assert proc.returncode == 0, proc.stderr
        text = proc.stdout.decode()
        assert (f"{long_ago} is outside the calendar window Oxymus keeps (from {first} to {last}); "
                "events are not known for it.") in text
        assert "nothing scheduled" not in text

        outside = json.loads(run_cli("today", "--date", long_ago.isoformat(), "--json").stdout)
        assert outside["events"] == [] and outside["calendar_window"] == {"first": str(first), "last": str(last)}
        assert outside["events_unknown"].startswith(f"{long_ago} is outside")
        assert json.loads(run_cli("today", "--date", yesterday.isoformat(), "--json").stdout)["events_unknown"] is None

        after = run_cli("today", "--date", str(last + dt.timedelta(days=1))).stdout.decode()
        assert "outside the calendar window" in after
        empty = run_cli("today", "--date", str(today + dt.timedelta(days=3))).stdout.decode()
        assert "nothing scheduled" in empty  # inside the window and empty: that is the truth
    finally:
        d.stop()
