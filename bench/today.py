"""How fast is `oxymus today --json` over a busy calendar? Whole-process figures, in one run.

    .venv/bin/python bench/today.py [--runs N] [--json]

Setup: a temp profile whose calendar is one ICS file of recurring series plus
one-off events that expand to about 2,000 occurrences over the coming year
(weekday dailies, weeklies, singles; in Europe/Berlin, so DST is crossed twice),
polled by a real daemon.

Measured, interleaved so machine drift hits every row alike:
- floor: `python -c "import sqlite3"` (interpreter start, same venv);
- baseline: `oxymus status --json`: the same CLI, socket round trip and JSON
  printing, without the Today work;
- `oxymus today --json`: the day view over the ~2,000 stored occurrences;
- `oxymus today --json --date D` for a day half a year ahead (a different slice).
Also the calendar poll itself (`state.refresh` of the source: parse, expand a year
of recurrences, diff against the store), timed over the socket.
Percentiles are nearest-rank (_stats.py); figures drift 10-50% between runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _stats import summary  # noqa: E402

ZONE = "Europe/Berlin"


def year_of_events(start: dt.date) -> tuple[str, int]:
    """An ICS text and the number of occurrences it should expand to within 366 days."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Oxymus//bench//EN"]
    expected = 0
    stamp = "20260101T000000Z"
    end = start + dt.timedelta(days=366)

    def add(uid: str, first: dt.datetime, minutes: int, rrule: str | None, summary: str) -> None:
        lines.extend(["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{stamp}", f"SUMMARY:{summary}",
                      f"DTSTART;TZID={ZONE}:{first:%Y%m%dT%H%M%S}",
                      f"DTEND;TZID={ZONE}:{first + dt.timedelta(minutes=minutes):%Y%m%dT%H%M%S}"])
        if rrule:
            lines.append(f"RRULE:{rrule}")
        lines.append("END:VEVENT")

    monday = start + dt.timedelta(days=-start.weekday() % 7)  # DTSTART is always an occurrence: start on a weekday
    for i in range(4):  # weekday dailies
        add(f"daily-{i}", dt.datetime.combine(monday, dt.time(8 + i, 0)), 15, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", f"Daily {i}")
        expected += sum(1 for n in range((end - monday).days) if (monday + dt.timedelta(days=n)).weekday() < 5)
    for i in range(16):  # weeklies on varying days
        first = dt.datetime.combine(start + dt.timedelta(days=i % 7), dt.time(13 + i % 5, 30))
        add(f"weekly-{i}", first, 60, "FREQ=WEEKLY", f"Weekly {i}")
        expected += sum(1 for n in range(0, 366, 7) if first.date() + dt.timedelta(days=n) < end)
    singles = max(0, 2000 - expected)
    for i in range(singles):
        day = start + dt.timedelta(days=(i * 7) % 366)
        add(f"single-{i}", dt.datetime.combine(day, dt.time(18, (i * 13) % 60)), 45, None, f"Single {i}")
    expected += singles
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n", expected


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter_ns()
    proc = subprocess.run(cmd, env=env, capture_output=True)
    elapsed = (time.perf_counter_ns() - t) / 1e6
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--polls", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    python = sys.executable
    oxymus = os.path.join(os.path.dirname(python), "oxymus")
    root = tempfile.mkdtemp(prefix="oxt-", dir="/tmp")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE",)}
    env.update(OXYMUS_HOME=root, PYTHONPYCACHEPREFIX=os.path.join(root, "pyc"), TZ=ZONE)
    today = dt.datetime.now(dt.timezone.utc).astimezone(__import__("zoneinfo").ZoneInfo(ZONE)).date()
    ics, expected = year_of_events(today)
    os.makedirs(os.path.join(root, "config"))
    with open(os.path.join(root, "config", "year.ics"), "w") as fh:
        fh.write(ics)
    with open(os.path.join(root, "config", "config.toml"), "w") as fh:
        fh.write(f'[time]\nzone = "{ZONE}"\n[calendar]\npast_days = 0\nfuture_days = 366\n'
                 '[[calendar.ics]]\npath = "year.ics"\nname = "year"\ninterval = 86400\n')
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from oxymus.client.sync_client import connect

    rows: dict[str, list[float]] = {"floor": [], "status": [], "today": [], "today_later": []}
    polls: list[float] = []
    later = (today + dt.timedelta(days=180)).isoformat()
    try:
        subprocess.run([oxymus, "up"], env=env, check=True, capture_output=True)
        socket_path = os.path.join(root, "run", "oxymus.sock")
        with connect(socket_path, timeout=300) as conn:
            for _ in range(args.polls):
                t = time.perf_counter_ns()
                result = conn.call("state.refresh", {"source": "calendar.year"})
                polls.append((time.perf_counter_ns() - t) / 1e6)
            stored = result["sources"][0]["item_count"]
            if result["sources"][0]["consecutive_failures"]:
                raise SystemExit(f"calendar poll failed: {result['sources'][0]['last_error']}")
        commands = {
            "floor": [python, "-c", "import sqlite3"],
            "status": [oxymus, "status", "--json"],
            "today": [oxymus, "today", "--json"],
            "today_later": [oxymus, "today", "--json", "--date", later],
        }
        for name, cmd in commands.items():  # warm-up
            timed(cmd, env)
        events_today = len(json.loads(subprocess.run(commands["today"], env=env, capture_output=True).stdout)["events"])
        for i in range(args.runs):
            names = list(commands)
            names = names[i % len(names):] + names[: i % len(names)]
            for name in names:
                rows[name].append(timed(commands[name], env))
    finally:
        subprocess.run([oxymus, "down"], env=env, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)

    report = {
        "occurrences_expected": expected, "items_stored": stored, "events_today": events_today,
        "calendar_poll_ms": summary(polls, (50, 90)),
        **{name: summary(values, (50, 90)) for name, values in rows.items()},
    }
    report["today_over_status"] = report["today"]["p50"] / report["status"]["p50"]
    report["today_over_floor"] = report["today"]["p50"] / report["floor"]["p50"]
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"calendar: {expected} occurrences generated for the next 366 days, {stored} stored (the window includes its last day); {events_today} today")
    print(f"calendar poll (parse + expand + store), {args.polls} polls: p50 {report['calendar_poll_ms']['p50']:.1f} ms, p90 {report['calendar_poll_ms']['p90']:.1f} ms")
    print(f"{'whole process, ' + str(args.runs) + ' runs':<40} {'p50 ms':>8} {'p90 ms':>8}")
    labels = {"floor": 'python -c "import sqlite3"', "status": "oxymus status --json (baseline)",
              "today": "oxymus today --json", "today_later": f"oxymus today --json --date {later}"}
    for name, label in labels.items():
        print(f"{label:<40} {report[name]['p50']:>8.1f} {report[name]['p90']:>8.1f}")
    print(f"today / status: {report['today_over_status']:.2f}x   today / floor: {report['today_over_floor']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
